/* Fuzz target: the option parser with 'lkvm run''s table, and the value parsers its callbacks use. */
#include "fuzz.h"
#include "kvm/builtin.h"
#include "kvm/kvm.h"
#include "kvm/migrate.h"
#include "kvm/options.h"
#include "kvm/pvtime.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-net.h"

/* Input: NUL-separated command-line words (at most 64), as run_parse_args() gets them after "lkvm run". */
#define MAX_ARGS 64

FZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char *copy = malloc(size + 1), err[256] = "";
	const char *argv[MAX_ARGS];
	int argc = 0;
	struct kvm_config cfg;
	bool help;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	if (run_parse_args(argc, argv, &cfg, &help, err, sizeof(err)) == 0) {
		/* what the parser accepted must be what the rest of lkvm expects */
		for (unsigned int i = 0; i < cfg.nr_disks; i++) {
			size_t plen;
			bool ro, direct;
			if (cfg.nr_disks > ARRAY_SIZE(cfg.disks) ||
			    virtio_blk_parse_spec(cfg.disks[i], &plen, &ro, &direct, err, sizeof(err)))
				abort();
		}
		for (unsigned int i = 0; i < cfg.nr_nets; i++) {
			struct virtio_net_params p;
			if (cfg.nr_nets > ARRAY_SIZE(cfg.nets) || virtio_net_parse_spec(cfg.nets[i], &p, err, sizeof(err)) || (!p.tap && !p.user))
				abort();
		}
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	fz_quiet(); /* --loglevel changes the process-wide level */
	/* every word through the value parsers of the other subcommands' options */
	for (int i = 0; i < argc; i++) {
		struct virtio_net_params p;
		struct migrate_addr ma;
		enum pvtime_mode pm;
		enum log_level ll;
		unsigned int u;
		size_t plen;
		bool ro, direct;
		u64 v;
		parse_u64(argv[i], &v);
		parse_uint(argv[i], &u);
		pvtime_parse_mode(argv[i], &pm);
		log_parse_level(argv[i], &ll);
		virtio_blk_parse_spec(argv[i], &plen, &ro, &direct, err, sizeof(err));
		if (virtio_net_parse_spec(argv[i], &p, err, sizeof(err)) == 0 && strlen(p.tapif) >= IFNAMSIZ)
			abort();
		migrate_addr_parse(argv[i], &ma, err, sizeof(err));
	}
	free(copy);
	return 0;
}
