// SPDX-License-Identifier: GPL-2.0
/* A session's state on disk (see state.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlproto.h"
#include "state.h"

#define STATE_MAX	32768
#define MAGIC		"vhost-traced-session"

int state_write(int dirfd, const char *fields, size_t len)
{
	struct vt_buf b;
	int fd, err;

	vt_buf_init(&b);
	err = vt_buf_printf(&b, MAGIC " version=%d %.*s\n", STATE_VERSION,
			  (int)len, fields);
	if (err) {
		vt_buf_free(&b);
		return -ENOMEM;
	}
	/* the directory is the requester's: whatever they put there goes */
	unlinkat(dirfd, STATE_TMP, 0);
	fd = openat(dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dirfd, STATE_TMP, dirfd, STATE_FILE))
		err = -errno;
	if (err)
		unlinkat(dirfd, STATE_TMP, 0);
out:
	vt_buf_free(&b);
	return err;
}

void state_remove(int dirfd)
{
	unlinkat(dirfd, STATE_FILE, 0);
	unlinkat(dirfd, STATE_TMP, 0);
}

/*
 * RUNDIR/sID belongs to the requester (QEMU makes the agent socket
 * there): only a state file that the daemon wrote is believed, a plain
 * file of root's that nobody else may write, with one link. Checked on
 * the file opened, not on its name.
 */
static int trusted(int fd, char *err, size_t errsz)
{
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(err, errsz, "fstat: %s", strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid || (st.st_mode & 022) ||
	    st.st_nlink != 1) {
		snprintf(err, errsz, STATE_FILE " is not a plain file of "
			 "root's mode 0600");
		return 0;
	}
	return 1;
}

static int get_version(const struct ctl_req *r, long long *val)
{
	const char *v = ctl_get(r, "version");
	char *end;

	if (!v || !*v)
		return -EINVAL;
	errno = 0;
	*val = strtoll(v, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int state_read(int dirfd, struct ctl_req *r, char *err, size_t errsz)
{
	char *buf = malloc(STATE_MAX + 1), *nl;
	ssize_t n = -1;
	long long ver;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	/* O_NONBLOCK: a FIFO does not block the open (and is refused) */
	fd = openat(dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd >= 0 && !trusted(fd, err, errsz)) {
		close(fd);
		ret = -EPERM;
		goto out;
	}
	if (buf && fd >= 0)
		n = read(fd, buf, STATE_MAX + 1);
	ret = n < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (!buf || ret) {
		ret = buf ? ret : -ENOMEM;
		snprintf(err, errsz, "cannot read " STATE_FILE ": %s",
			 strerror(-ret));
		goto out;
	}
	nl = memchr(buf, '\n', n);
	if (n > STATE_MAX || !nl || nl != buf + n - 1) {
		snprintf(err, errsz, "not one line of at most %d bytes",
			 STATE_MAX);
		ret = -EINVAL;
		goto out;
	}
	ret = ctl_parse(buf, nl - buf, r);
	if (ret || strcmp(r->argv[0], MAGIC)) {
		snprintf(err, errsz, "not a vhost-traced session state");
		ret = -EINVAL;
		goto out;
	}
	if (get_version(r, &ver) || ver != STATE_VERSION) {
		snprintf(err, errsz, "version %s (this daemon reads %d)",
			 ctl_get(r, "version") ?: "missing", STATE_VERSION);
		ret = -EINVAL;
	}
out:
	if (ret && r->argv)
		ctl_req_free(r);
	free(buf);
	return ret;
}

int proc_stat(pid_t pid, char *state, unsigned long long *start_time)
{
	char path[64], buf[1024], *p, *save;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -ESRCH;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold blanks and ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p = strtok_r(p + 1, " ", &save);	/* field 3: state */
	if (!p)
		return -EINVAL;
	*state = p[0];
	for (i = 4; i <= 22; i++) {
		p = strtok_r(NULL, " ", &save);
		if (!p)
			return -EINVAL;
	}
	*start_time = strtoull(p, NULL, 10);
	return 0;
}
