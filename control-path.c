/* Where control sockets live, and which VM names are acceptable (shared by server and clients). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/control.h"

bool control_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

int control_dir(char *buf, size_t len, bool create, char *err, size_t errlen)
{
	const char *env = getenv("LKVM_SOCK_DIR"), *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	struct stat st;

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/lkvm", xdg);
	else if (home && *home && strcmp(home, "/"))
		snprintf(buf, len, "%s/.lkvm", home);
	else
		snprintf(buf, len, "/tmp/lkvm-%u", (unsigned int)getuid());

	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the control directory %s: %s", buf, strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) < 0) {
		if (errno == ENOENT && !create)
			snprintf(err, errlen, "no VM is running (no control directory %s; see 'lkvm list')", buf);
		else
			snprintf(err, errlen, "control directory %s: %s", buf, strerror(errno));
		return -1;
	}
	/* Private to the user: a shared or foreign directory could hand our clients someone else's socket. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 0077)) {
		snprintf(err, errlen,
			 "control directory %s must be a directory owned by you with mode 0700 (fix it or set LKVM_SOCK_DIR)",
			 buf);
		return -1;
	}
	return 0;
}

int control_path(const char *name, char *buf, size_t len, bool create, char *err, size_t errlen)
{
	char dir[256];

	if (!control_name_ok(name)) {
		snprintf(err, errlen, "'%s' is not a valid VM name (use letters, digits, '-', '_' and '.')", name);
		return -1;
	}
	if (control_dir(dir, sizeof(dir), create, err, errlen))
		return -1;
	if ((size_t)snprintf(buf, len, "%s/%s.sock", dir, name) >= len || strlen(buf) >= 108) {
		snprintf(err, errlen, "control socket path %s/%s.sock is too long for a unix socket", dir, name);
		return -1;
	}
	return 0;
}
