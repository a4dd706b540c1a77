#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/record.h"
#include "file.h"
#include "process.h"
#include "state.h"

const char *ctr_status_name(enum ctr_status status)
{
	switch (status) {
	case CTR_CREATED:
		return "created";
	case CTR_RUNNING:
		return "running";
	case CTR_EXITED:
		return "exited";
	}
	return "unknown";
}

int ctr_new_id(char *id)
{
	unsigned char bytes[CTR_ID_LEN / 2];
	size_t got = 0;
	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

bool ctr_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > CTR_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

/* Whether text is CTR_ID_LEN lower-case hex digits. */
static bool is_id(const char *text)
{
	size_t i;
	for (i = 0; text[i]; i++)
		if (!isxdigit((unsigned char)text[i]) ||
		    isupper((unsigned char)text[i]))
			return false;
	return i == CTR_ID_LEN;
}

int ctr_proc_start(pid_t pid, unsigned long long *start)
{
	struct proc_stat st;
	if (proc_stat(pid, &st) < 0)
		return -1;
	*start = st.start;
	return 0;
}

bool ctr_pid_alive(const struct ctr_record *r)
{
	unsigned long long start;
	return r->pid > 0 && ctr_proc_start(r->pid, &start) == 0 &&
	       start == r->pid_start;
}

/* r as a JSON object, or NULL (out of memory). */
static json_t *record_json(const struct ctr_record *r)
{
	json_t *argv = json_array();
	if (!argv)
		return NULL;
	for (char **a = r->argv; a && *a; a++)
		if (json_array_append_new(argv, json_string(*a)) < 0) {
			json_decref(argv);
			return NULL;
		}
	return json_pack(
	    "{s:s, s:s, s:I, s:I, s:s, s:i, s:I, s:I, s:I, s:s, "
	    "s:o}",
	    "id", r->id, "name", r->name, "pid", (json_int_t)r->pid,
	    "pid_start", (json_int_t)r->pid_start, "status",
	    ctr_status_name(r->status), "exit_status", r->exit_status,
	    "created", (json_int_t)r->created, "started",
	    (json_int_t)r->started, "finished", (json_int_t)r->finished,
	    "image", r->image, "command", argv);
}

int ctr_write_atomic(const char *dir, const char *name, const char *text,
		     bool durable)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	/* In the same directory: rename(2) is atomic only within one
	 * filesystem. A dot name: readers never open it. */
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		(int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		(int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	int result = write_all(fd, text, strlen(text));
	/* Durable: on disk before the rename, or a crash could leave the
	 * new name on an empty file (ext4 without auto_da_alloc, xfs). */
	if (result == 0 && (fchmod(fd, 0644) < 0 || (durable && fsync(fd) < 0)))
		result = -1;
	int saved = errno;
	if (close(fd) < 0 && result == 0) {
		saved = errno;
		result = -1;
	}
	if (result == 0 && rename(tmp, path) < 0) {
		saved = errno;
		result = -1;
	}
	if (result < 0)
		unlink(tmp);
	errno = saved;
	return result;
}

int ctr_write_json(const char *dir, const char *name, json_t *o, size_t flags,
		   bool durable)
{
	char *text = o ? json_dumps(o, flags) : NULL;
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	int result = ctr_write_atomic(dir, name, text, durable);
	int saved = errno;
	free(text);
	errno = saved;
	return result;
}

int ctr_record_write(const char *dir, const struct ctr_record *r)
{
	json_t *o = record_json(r);
	int result = ctr_write_json(dir, CTR_STATE, o,
				    JSON_INDENT(2) | JSON_SORT_KEYS, true);
	int saved = errno;
	json_decref(o);
	errno = saved;
	return result;
}

json_t *ctr_read_json(const char *dir, const char *name, char *why,
		      size_t why_len)
{
	char path[PATH_MAX];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!o) {
		/* jansson says why but keeps no errno: ask the file. */
		int saved = access(path, R_OK) < 0 ? errno : EINVAL;
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 saved == EINVAL ? err.text : strerror(saved));
		errno = saved;
	}
	return o;
}

/* Copy the string member key of o into buf; missing or not a string is
 * an error, too long one too. */
static int get_string(json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) >= len)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* The integer member key of o into *v; missing or not an integer is an
 * error. */
static int get_int(json_t *o, const char *key, long long *v)
{
	json_t *j = json_object_get(o, key);
	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

int ctr_record_read(const char *dir, struct ctr_record *r, char *why,
		    size_t why_len)
{
	char path[PATH_MAX], status[16];
	long long pid, start, exit_status;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/" CTR_STATE, dir);
	json_t *o = ctr_read_json(dir, CTR_STATE, why, why_len);
	if (!o)
		return -1;
	json_t *argv = json_object_get(o, "command");
	int bad = get_string(o, "id", r->id, sizeof(r->id)) < 0 ||
		  !is_id(r->id) ||
		  get_string(o, "name", r->name, sizeof(r->name)) < 0 ||
		  get_int(o, "pid", &pid) < 0 ||
		  get_int(o, "pid_start", &start) < 0 ||
		  get_string(o, "status", status, sizeof(status)) < 0 ||
		  get_int(o, "exit_status", &exit_status) < 0 ||
		  get_int(o, "created", &r->created) < 0 ||
		  get_int(o, "started", &r->started) < 0 ||
		  get_int(o, "finished", &r->finished) < 0 ||
		  get_string(o, "image", r->image, sizeof(r->image)) < 0 ||
		  !json_is_array(argv) || pid < 0 || pid > INT_MAX ||
		  start < 0 || exit_status < -1 || exit_status > 255;
	if (!bad) {
		r->pid = (pid_t)pid;
		r->pid_start = (unsigned long long)start;
		r->exit_status = (int)exit_status;
		if (!strcmp(status, "created"))
			r->status = CTR_CREATED;
		else if (!strcmp(status, "running"))
			r->status = CTR_RUNNING;
		else if (!strcmp(status, "exited"))
			r->status = CTR_EXITED;
		else
			bad = 1;
	}
	size_t n = bad ? 0 : json_array_size(argv);
	if (!bad && !(r->argv = calloc(n + 1, sizeof(char *))))
		bad = 2;
	for (size_t i = 0; !bad && i < n; i++) {
		const char *s = json_string_value(json_array_get(argv, i));
		if (!s)
			bad = 1;
		else if (!(r->argv[i] = strdup(s)))
			bad = 2;
	}
	json_decref(o);
	if (bad) {
		ctr_record_free(r);
		snprintf(why, why_len, "'%s' is not a container's record%s",
			 path, bad == 2 ? ": out of memory" : "");
		errno = bad == 2 ? ENOMEM : EINVAL;
		return -1;
	}
	return 0;
}

void ctr_record_free(struct ctr_record *r)
{
	for (char **a = r->argv; a && *a; a++)
		free(*a);
	free(r->argv);
	r->argv = NULL;
}

int ctr_record_set_argv(struct ctr_record *r, char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **copy = calloc(n + 1, sizeof(char *));
	if (!copy)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = strdup(argv[i]))) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			errno = ENOMEM;
			return -1;
		}
	ctr_record_free(r);
	r->argv = copy;
	return 0;
}

int ctr_claim_name(const char *run, const char *name, const char *id)
{
	char path[PATH_MAX];
	if (!ctr_name_valid(name) || !is_id(id)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" CTR_NAMES_DIR, run);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/" CTR_NAMES_DIR "/%s", run, name);
	/* symlink(2) makes the name or fails with EEXIST: of two runs
	 * that want one name, exactly one gets it. */
	return symlink(id, path);
}

int ctr_release_name(const char *run, const char *name)
{
	char path[PATH_MAX];
	if (!ctr_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" CTR_NAMES_DIR "/%s", run, name);
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int ctr_lookup(const char *run, const char *key, char *id, char *why,
	       size_t why_len)
{
	char path[PATH_MAX], target[CTR_ID_LEN + 2];

	/* A name first, as docker does: a name that looks like the start
	 * of an id is still that name. */
	if (ctr_name_valid(key)) {
		snprintf(path, sizeof(path), "%s/" CTR_NAMES_DIR "/%s", run,
			 key);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			if (is_id(target)) {
				memcpy(id, target, CTR_ID_LEN + 1);
				return 0;
			}
		}
	}
	/* A whole id names its directory: no need to read them all. */
	snprintf(path, sizeof(path), "%s/%s", run, key);
	if (is_id(key) && access(path, F_OK) == 0) {
		memcpy(id, key, CTR_ID_LEN + 1);
		return 0;
	}
	size_t len = strlen(key), found = 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)key[i]) ||
		    isupper((unsigned char)key[i]))
			len = 0;
	DIR *d = len > 0 && len <= CTR_ID_LEN ? opendir(run) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!is_id(e->d_name) || strncmp(e->d_name, key, len))
				continue;
			if (found++ == 0)
				memcpy(id, e->d_name, CTR_ID_LEN + 1);
		}
		closedir(d);
	}
	if (found == 1)
		return 0;
	if (found > 1) {
		snprintf(why, why_len,
			 "'%s' is the start of %zu containers' ids (give more "
			 "of it)",
			 key, found);
		errno = EEXIST;
	} else {
		snprintf(why, why_len, "no such container: '%s'", key);
		errno = ENOENT;
	}
	id[0] = '\0';
	return -1;
}

/* Newest first; the id orders those made in the same second. */
static int newest_first(const void *a, const void *b)
{
	const struct ctr_record *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(x->id, y->id);
}

int ctr_list(const char *run, struct ctr_record **recs, size_t *n)
{
	struct ctr_record *list = NULL;
	size_t count = 0, cap = 0;
	char dir[PATH_MAX], why[PATH_MAX + 64];
	struct dirent *e;

	*recs = NULL;
	*n = 0;
	DIR *d = opendir(run);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		if (!is_id(e->d_name))
			continue;
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			struct ctr_record *more =
			    realloc(list, cap * sizeof(*list));
			if (!more) {
				closedir(d);
				ctr_list_free(list, count);
				errno = ENOMEM;
				return -1;
			}
			list = more;
		}
		snprintf(dir, sizeof(dir), "%s/%s", run, e->d_name);
		/* One being made or removed has no complete record: not
		 * listed, not an error. */
		if (ctr_record_read(dir, &list[count], why, sizeof(why)) == 0)
			count++;
	}
	closedir(d);
	if (count)
		qsort(list, count, sizeof(*list), newest_first);
	*recs = list;
	*n = count;
	return 0;
}

void ctr_list_free(struct ctr_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctr_record_free(&recs[i]);
	free(recs);
}

bool ctr_monitor_alive(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* A shared lock is refused only while someone holds it
	 * exclusively: the monitor. */
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}
