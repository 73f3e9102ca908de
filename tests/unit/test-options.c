/* Unit tests: 'lkvm run' option parsing (long/short, =value and separate value, errors, --pvtime forms). */
#include <string.h>

#include "check.h"
#include "kvm/builtin.h"
#include "kvm/kvm.h"

static int parse(struct kvm_config *cfg, char *err, const char **argv, int argc)
{
	bool help;
	return run_parse_args(argc, argv, cfg, &help, err, 256);
}

#define ARGS(...) (const char *[]){ __VA_ARGS__ }, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *))

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct kvm_config cfg;
	char err[256] = "";

	CHECK(&uc, parse(&cfg, err, ARGS("-k", "Image", "-c", "2", "--mem=512", "-p", "quiet x=1")) == 0, "basic");
	CHECK(&uc, !strcmp(cfg.kernel, "Image") && cfg.nr_cpus == 2 && cfg.ram_mib == 512 &&
			   !strcmp(cfg.params, "quiet x=1"),
	      "values stored");
	CHECK(&uc, parse(&cfg, err, ARGS("--kernel=K", "--cpus", "4", "-m256", "--initrd", "I")) == 0 &&
			   cfg.nr_cpus == 4 && cfg.ram_mib == 256 && !strcmp(cfg.initrd, "I"),
	      "long and attached forms");
	CHECK(&uc, parse(&cfg, err, ARGS("-k", "K")) == 0 && cfg.nr_cpus == 1 && cfg.ram_mib == 256 &&
			   cfg.pvtime == PVTIME_AUTO && cfg.irqchip == IRQCHIP_AUTO,
	      "defaults: 1 vCPU, 256 MiB, pvtime auto");
	CHECK(&uc, parse(&cfg, err, ARGS("--bogus")) == -1 && strstr(err, "--bogus"), "unknown option: %s", err);
	CHECK(&uc, parse(&cfg, err, ARGS("-c")) == -1 && strstr(err, "needs a value"), "missing value: %s", err);
	CHECK(&uc, parse(&cfg, err, ARGS("-c", "two")) == -1 && strstr(err, "not a number"), "bad number: %s", err);
	CHECK(&uc, parse(&cfg, err, ARGS("-c", "-1")) == -1, "negative count refused");
	CHECK(&uc, parse(&cfg, err, ARGS("-c", "99999999999")) == -1 && strstr(err, "range"), "huge count: %s", err);
	CHECK(&uc, parse(&cfg, err, ARGS("--pvtime")) == 0 && cfg.pvtime == PVTIME_ON, "bare --pvtime is on");
	CHECK(&uc, parse(&cfg, err, ARGS("--pvtime=off")) == 0 && cfg.pvtime == PVTIME_OFF, "--pvtime=off");
	CHECK(&uc, parse(&cfg, err, ARGS("--no-pvtime")) == 0 && cfg.pvtime == PVTIME_OFF, "--no-pvtime");
	CHECK(&uc, parse(&cfg, err, ARGS("--pvtime=maybe")) == -1, "--pvtime=maybe refused");
	CHECK(&uc, parse(&cfg, err, ARGS("--irqchip", "gicv3-its")) == 0 && cfg.irqchip == IRQCHIP_GICV3_ITS,
	      "--irqchip gicv3-its");
	CHECK(&uc, parse(&cfg, err, ARGS("--irqchip=gicv4")) == -1, "--irqchip gicv4 refused");
	CHECK(&uc, parse(&cfg, err, ARGS("--console", "virtio", "--nodefaults", "--pmu")) == 0 &&
			   cfg.console == CONSOLE_VIRTIO && cfg.nodefaults && cfg.pmu,
	      "console, nodefaults, pmu");
	CHECK(&uc, parse(&cfg, err, ARGS("--network", "mode=none")) == 0, "--network mode=none");
	CHECK(&uc, parse(&cfg, err, ARGS("--pmu=1")) == -1, "bool option with a value refused");
	CHECK(&uc, parse(&cfg, err, ARGS("Image")) == 0 && !strcmp(cfg.kernel, "Image"), "positional kernel");
	CHECK(&uc, parse(&cfg, err, ARGS("A", "B")) == -1, "two positionals refused");
	CHECK(&uc, parse(&cfg, err, ARGS("--dump-dtb", "x.dtb", "--name", "vm1")) == 0 &&
			   !strcmp(cfg.dump_dtb, "x.dtb") && !strcmp(cfg.name, "vm1"),
	      "--dump-dtb and --name");
	UNIT_DONE(&uc);
}
