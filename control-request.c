/* The control socket's request grammar: one line, classified without side effects (host-buildable, fuzzed). */
#include <string.h>

#include "kvm/control.h"

void control_parse_request(const char *line, struct control_request *req)
{
	static const struct {
		const char *name;
		enum control_op op;
		bool stop;
	} words[] = {
		{ "info", CONTROL_INFO, false },	     { "steal", CONTROL_STEAL, false },
		{ "stop", CONTROL_STOP, false },	     { "pause", CONTROL_PAUSE, false },
		{ "resume", CONTROL_RESUME, false },	     { "save", CONTROL_SAVE, false },
		{ "save-stop", CONTROL_SAVE, true },	     { "save-file", CONTROL_SAVE_FILE, false },
		{ "save-file-stop", CONTROL_SAVE_FILE, true }, { "sample", CONTROL_SAMPLE, false },
	};

	*req = (struct control_request){ .op = CONTROL_UNKNOWN, .args = "" };
	/* While a migration runs nothing may pause, resume or save the VM (prefixes, as the server always had it). */
	req->refused_while_migrating = !strncmp(line, "save", 4) || !strncmp(line, "migrate", 7) ||
				       !strcmp(line, "pause") || !strcmp(line, "resume");
	if (!strncmp(line, "migrate ", 8)) {
		req->op = CONTROL_MIGRATE;
		req->args = line + 8;
		return;
	}
	if (!strncmp(line, "debug", 5) && (!line[5] || line[5] == ' ' || !strncmp(line + 5, "-dump", 5))) {
		const char *rest = line + 5;
		req->stop = !strncmp(rest, "-dump", 5);
		rest += req->stop ? 5 : 0;
		if (*rest == ' ' || !*rest) {
			req->op = CONTROL_DEBUG;
			req->args = *rest ? rest + 1 : rest;
		}
		return;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(line, words[i].name)) {
			req->op = words[i].op;
			req->stop = words[i].stop;
			return;
		}
	}
}
