/* 'lkvm debug --name N [--dump] [--vcpu K]': a running VM's vCPU registers, through its control socket. */
#include <stdio.h>
#include <stdlib.h>

#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/log.h"
#include "kvm/options.h"

int cmd_debug(int argc, const char **argv)
{
	const char *name = NULL, *vcpu = NULL;
	bool dump = false, help = false;
	const struct option_desc opts[] = {
		{ 'n', "name", OPT_STRING, &name, "name", "The VM to inspect", NULL, 0 },
		{ 'd', "dump", OPT_BOOL, &dump, NULL,
		  "All general registers, the EL1 system registers and the bytes at PC (default: PC, SP, PSTATE)", NULL, 0 },
		{ 0, "vcpu", OPT_STRING, &vcpu, "k", "Only this vCPU (from 0)", NULL, 0 },
		{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	char err[400], req[64];

	if (options_parse(opts, argc, argv, NULL, NULL, 0, err, sizeof(err)) < 0)
		die("%s (see 'lkvm debug --help')", err);
	if (help) {
		options_usage(stdout, "lkvm debug --name NAME [--dump] [--vcpu K]", opts);
		return 0;
	}
	if (!name)
		die("lkvm debug: which VM? give --name NAME (see 'lkvm list')");
	if (vcpu) {
		char *end;
		unsigned long k = strtoul(vcpu, &end, 10);
		if (end == vcpu || *end || k > 4096)
			die("--vcpu %s: give a vCPU number, e.g. --vcpu 0", vcpu);
		snprintf(req, sizeof(req), "debug%s %lu", dump ? "-dump" : "", k);
	} else {
		snprintf(req, sizeof(req), "debug%s", dump ? "-dump" : "");
	}
	if (control_request(name, req, stdout, err, sizeof(err)))
		die("VM %s: %s", name, err);
	return 0;
}
