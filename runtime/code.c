/* code.c — writing and unpacking action code (see code.h). */
#include "runtime/code.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/base64.h"
#include "runtime/cmd.h"
#include "runtime/zipcheck.h"

#define UNZIP_TIMEOUT_MS 60000
#define UNZIP_MAX_OUTPUT 4096

struct rt_code {
	struct rt_cmd *cmd;
	enum rt_family fam;
	char dir[PATH_MAX];
	struct rt_code_out out;
	rt_code_done cb;
	void *arg;
};

int rt_code_write_file(const char *path, const void *data, size_t len, int mode, struct hc_err *err)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return hc_err_set(err, "cannot create %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hc_err_set(err, "cannot write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || close(fd) < 0)
		return hc_err_set(err, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* dir + "/" + name into out; -1 when it does not fit. */
static int path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* After extraction: find what the family runs. */
static int finish_dir(struct rt_code *c, struct hc_err *err)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(c->out.path, sizeof c->out.path, "%s", c->dir);
	c->out.is_dir = 1;
	switch (c->fam) {
	case RT_FAM_PYTHON:
		if (path_join(p, sizeof p, c->dir, "__main__.py") < 0 || stat(p, &st) < 0)
			return hc_err_set(err, "Zip file does not include __main__.py");
		return 0;
	case RT_FAM_BLACKBOX:
		if (path_join(p, sizeof p, c->dir, "exec") < 0 || lstat(p, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			return hc_err_set(err, "zip file does not include an executable 'exec'");
		if (chmod(p, 0700) < 0)
			return hc_err_set(err, "cannot chmod %s: %s", p, strerror(errno));
		snprintf(c->out.path, sizeof c->out.path, "%s", p);
		c->out.is_dir = 0;
		return 0;
	default:
		return 0;
	}
}

static void unzip_done(int status, const char *output, void *arg)
{
	struct rt_code *c = arg;
	struct hc_err err = {""};
	int rc = -1;

	c->cmd = NULL;
	if (status == -1)
		hc_err_set(&err, "unzip timed out");
	else if (status != 0)
		hc_err_set(&err, "unzip failed: %.200s", output);
	else
		rc = finish_dir(c, &err);
	c->cb(rc, rc == 0 ? &c->out : NULL, err.msg, c->arg);
	free(c);
}

static const char *unzip_path(void)
{
	return access("/usr/bin/unzip", X_OK) == 0 ? "/usr/bin/unzip" : "/bin/unzip";
}

int rt_code_prepare(struct event_base *base, const char *workdir, enum rt_family fam,
		    const struct pr_rt_init *init, struct rt_code_out *out, rt_code_done cb,
		    void *arg, struct rt_code **pending, struct hc_err *err)
{
	static const char *const plain_name[] = {[RT_FAM_NODEJS] = "index.js",
						 [RT_FAM_PYTHON] = "__main__.py",
						 [RT_FAM_BLACKBOX] = "exec"};
	unsigned char *bin = NULL;
	size_t binlen = 0;
	char zip[PATH_MAX];
	struct rt_code *c = NULL;
	int rc = -1;

	*pending = NULL;
	if (fam == RT_FAM_NONE)
		return hc_err_set(err, "no kind");
	c = calloc(1, sizeof *c);
	if (!c)
		return hc_err_set(err, "out of memory");
	c->fam = fam;
	c->cb = cb;
	c->arg = arg;
	if (path_join(c->dir, sizeof c->dir, workdir, "code") < 0 ||
	    path_join(zip, sizeof zip, workdir, "action.zip") < 0) {
		hc_err_set(err, "work directory path is too long");
		goto out;
	}
	if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
		hc_err_set(err, "cannot create %s: %s", c->dir, strerror(errno));
		goto out;
	}
	if (!init->binary) {
		out->is_dir = 0;
		if (path_join(out->path, sizeof out->path, c->dir, plain_name[fam]) < 0) {
			hc_err_set(err, "work directory path is too long");
			goto out;
		}
		rc = rt_code_write_file(out->path, init->code, init->code_len,
					fam == RT_FAM_BLACKBOX ? 0700 : 0600, err);
		goto out;
	}
	bin = rt_base64_decode(init->code, init->code_len, &binlen);
	if (!bin) {
		hc_err_set(err, "the binary code is not valid base64");
		goto out;
	}
	if (!rt_zip_is_zip(bin, binlen)) {
		if (fam != RT_FAM_BLACKBOX) {
			hc_err_set(err, "binary code must be a zip archive for kind %s",
				   rt_family_name(fam));
			goto out;
		}
		out->is_dir = 0;
		if (path_join(out->path, sizeof out->path, c->dir, "exec") < 0) {
			hc_err_set(err, "work directory path is too long");
			goto out;
		}
		rc = rt_code_write_file(out->path, bin, binlen, 0700, err);
		goto out;
	}
	if (rt_zip_check(bin, binlen, RT_CODE_MAX_EXPANDED, NULL, err) < 0)
		goto out;
	if (rt_code_write_file(zip, bin, binlen, 0600, err) < 0)
		goto out;
	{
		char *argv[] = {(char *)unzip_path(), "-qq", "-o", zip, "-d", c->dir, NULL};
		c->cmd = rt_cmd_run(base, argv, workdir, UNZIP_TIMEOUT_MS, UNZIP_MAX_OUTPUT,
				    unzip_done, c, err);
	}
	if (!c->cmd)
		goto out;
	*pending = c;
	c = NULL;
	rc = 1;
out:
	free(bin);
	free(c);
	return rc;
}

void rt_code_cancel(struct rt_code *c)
{
	if (!c)
		return;
	rt_cmd_cancel(c->cmd);
	free(c);
}
