/* lkvm's entry point: dispatch to subcommands, 'lkvm help' and 'lkvm version'. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kvm/builtin.h"
#include "kvm/log.h"
#include "kvm/metrics.h"
#include "kvm/migrate.h"
#include "kvm/snapshot.h"
#include "kvm/version.h"

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv);
	const char *help;
};

static int cmd_version(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	printf("lkvm version %s\n", LKVM_VERSION);
	return 0;
}

static int cmd_help(int argc, const char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "Start the virtual machine" },
	{ "list", cmd_list, "Print a list of running instances" },
	{ "stat", cmd_stat, "Print statistics of a running instance (--steal: stolen time per vCPU; --watch: live)" },
	{ "top", cmd_top, "Show every running instance: state, steal, exits/s, memory (like top)" },
	{ "debug", cmd_debug, "Print a running instance's vCPU registers (--dump: all of them and the code at PC)" },
	{ "stop", cmd_stop, "Stop a running instance" },
	{ "pause", cmd_pause, "Pause a running instance" },
	{ "resume", cmd_resume, "Resume a paused instance" },
	{ "save", cmd_save, "Save a running instance to a file or stdout (--stop: migrate)" },
	{ "restore", cmd_restore, "Restore an instance from a snapshot file or stdin (--incoming: a migration)" },
	{ "migrate", cmd_migrate, "Move a running instance live to 'lkvm restore --incoming' over TCP or a unix socket" },
	{ "version", cmd_version, "Print the version of lkvm" },
	{ "help", cmd_help, "Show this help, or 'lkvm help COMMAND'" },
};

static int cmd_help(int argc, const char **argv)
{
	/* 'lkvm help COMMAND' is 'lkvm COMMAND --help' */
	for (size_t i = 0; argc > 0 && i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *help_arg[] = { "--help", NULL };
		if (!strcmp(argv[0], commands[i].name) && commands[i].fn != cmd_help && commands[i].fn != cmd_version)
			return commands[i].fn(1, help_arg);
	}
	printf("\n To start a simple non-privileged shell run 'lkvm run'\n\n");
	printf("usage: lkvm [--version] [--help] COMMAND [ARGS]\n\n");
	printf("The most commonly used lkvm commands are:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("   %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nSee 'lkvm help COMMAND' for more information on a specific command.\n\n");
	return 0;
}

int main(int argc, const char **argv)
{
	/* Every peer (a VM's control socket, a pipe on stdout, a migration socket) may die at any moment: that must be
	 * an EPIPE and one error line, never a silent death by SIGPIPE (exit 141). */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 2, argv + 2);
	die("'%s' is not an lkvm command; see 'lkvm --help'", argv[1]);
}
