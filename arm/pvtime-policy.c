/* PV stolen time policy: parse --pvtime, decide on/off from host support, size the region (host-testable). */
#include <errno.h>
#include <string.h>

#include "kvm/pvtime.h"

int pvtime_parse_mode(const char *arg, enum pvtime_mode *mode)
{
	if (!arg || !strcmp(arg, "on") || !strcmp(arg, "yes") || !strcmp(arg, "1"))
		*mode = PVTIME_ON;
	else if (!strcmp(arg, "off") || !strcmp(arg, "no") || !strcmp(arg, "0"))
		*mode = PVTIME_OFF;
	else if (!strcmp(arg, "auto"))
		*mode = PVTIME_AUTO;
	else
		return -EINVAL;
	return 0;
}

enum pvtime_decision pvtime_decide(enum pvtime_mode mode, bool host_cap, bool vcpu_attr)
{
	bool supported = host_cap && vcpu_attr;

	switch (mode) {
	case PVTIME_OFF:
		return PVTIME_DISABLE;
	case PVTIME_ON:
		return supported ? PVTIME_ENABLE : PVTIME_REFUSE;
	case PVTIME_AUTO:
	default:
		return supported ? PVTIME_ENABLE : PVTIME_DISABLE_WARN;
	}
}

const char *pvtime_missing_reason(bool host_cap, bool vcpu_attr)
{
	if (!host_cap)
		return "the host kernel's KVM lacks KVM_CAP_STEAL_TIME (needs Linux >= 5.10 with CONFIG_SCHEDSTATS and "
		       "schedstats enabled)";
	if (!vcpu_attr)
		return "the host kernel's KVM has no vCPU attribute KVM_ARM_VCPU_PVTIME_IPA";
	return "supported";
}

u64 pvtime_region_size(unsigned int nr_cpus)
{
	return ALIGN_UP((u64)nr_cpus * PVTIME_RECORD_SIZE, PVTIME_REGION_ALIGN);
}
