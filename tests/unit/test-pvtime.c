/* Unit tests: the --pvtime decision (on/off/auto against host support) and the region size. */
#include "check.h"
#include "kvm/pvtime.h"

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	enum pvtime_mode m;

	CHECK(&uc, pvtime_decide(PVTIME_ON, true, true) == PVTIME_ENABLE, "on + support: enabled");
	CHECK(&uc, pvtime_decide(PVTIME_ON, false, false) == PVTIME_REFUSE, "on without the capability: refused");
	CHECK(&uc, pvtime_decide(PVTIME_ON, true, false) == PVTIME_REFUSE, "on without the vCPU attribute: refused");
	CHECK(&uc, pvtime_decide(PVTIME_AUTO, true, true) == PVTIME_ENABLE, "auto + support: enabled");
	CHECK(&uc, pvtime_decide(PVTIME_AUTO, false, false) == PVTIME_DISABLE_WARN, "auto without support: warn");
	CHECK(&uc, pvtime_decide(PVTIME_OFF, true, true) == PVTIME_DISABLE, "off: disabled even with support");
	CHECK(&uc, pvtime_parse_mode(NULL, &m) == 0 && m == PVTIME_ON, "bare flag = on");
	CHECK(&uc, pvtime_parse_mode("auto", &m) == 0 && m == PVTIME_AUTO, "auto");
	CHECK(&uc, pvtime_parse_mode("bogus", &m) != 0, "bogus refused");
	CHECK(&uc, pvtime_region_size(1) == 0x10000 && pvtime_region_size(1024) == 0x10000 &&
			   pvtime_region_size(1025) == 0x20000,
	      "region: 64-byte records in 64 KiB granules");
	CHECK(&uc, pvtime_missing_reason(false, false)[0] != 's', "reason names the capability: %s",
	      pvtime_missing_reason(false, false));
	UNIT_DONE(&uc);
}
