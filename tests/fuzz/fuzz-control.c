/* Fuzz target: the control socket's request line (server grammar, migrate arguments) and the client's line reader. */
#include <unistd.h>

#include "fuzz.h"
#include "kvm/control.h"
#include "kvm/migrate.h"

/*
 * Input: the bytes a client sends. The server's view: one line of at most CONTROL_MAX_LINE - 1 bytes up to '\n'
 * (as control_serve_one() assembles it), classified by control_parse_request(); a debug request's arguments stay
 * inside the line; a migrate request's arguments go through migrate_params_parse() and every word through
 * migrate_addr_parse(). The client's view: the same bytes as a VM's answer, read back line by line with
 * control_read_line().
 */
static int pipe_fd[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return pipe(pipe_fd);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char line[CONTROL_MAX_LINE], err[256], buf[CONTROL_MAX_LINE];
	struct control_request req;
	struct migrate_params mp;
	struct migrate_addr ma;
	size_t n = 0;

	while (n < sizeof(line) - 1 && n < size && data[n] != '\n') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	control_parse_request(line, &req);
	if (req.op == CONTROL_MIGRATE) {
		char words[CONTROL_MAX_LINE], *save = NULL;
		if (!req.args || req.args < line || req.args > line + n)
			abort();
		migrate_params_parse(req.args, &mp, err, sizeof(err));
		snprintf(words, sizeof(words), "%s", req.args);
		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
			migrate_addr_parse(w, &ma, err, sizeof(err));
	} else if (req.op == CONTROL_DEBUG) {
		if (!req.args || (req.args[0] && (req.args < line || req.args > line + n)))
			abort(); /* debug's arguments (a vCPU number) lie inside the line */
	} else if (req.op != CONTROL_UNKNOWN && req.args[0]) {
		abort(); /* only migrate and debug carry arguments */
	}
	migrate_addr_parse(line, &ma, err, sizeof(err));

	/* the client: a VM's answer (at most a pipe's worth), line by line */
	if (size <= 4096) {
		if (size && write(pipe_fd[1], data, size) != (ssize_t)size)
			abort();
		close(pipe_fd[1]);
		while (control_read_line(pipe_fd[0], buf, sizeof(buf)) >= 0)
			;
		close(pipe_fd[0]);
		if (pipe(pipe_fd))
			abort();
	}
	return 0;
}
