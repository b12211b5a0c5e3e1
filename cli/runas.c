/*
 * runas.c: root acting for a user.
 *
 * Everything a user owns is input that user controls: their home, their
 * dotfiles repository (its cstow.conf picks targets), their state
 * directory and what is in it.  A root run that read such input and
 * then wrote with root's rights could be steered anywhere, so a run as
 * root that would act on a path another user controls becomes that
 * user first, for the whole run, as "sudo -u" would: it can then do
 * nothing the user could not do.  A user controls a path when they own
 * a directory it passes through (and can replace what is below), a
 * symbolic link on the way, or what it names.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "runas.h"
#include "display.h"

#define MAX_HOPS	40	/* symbolic links followed, as the kernel */

/* path_controller()'s answer for a path every user can steer. */
#define ANYONE	((uid_t)-2)

/* The uid runas_become() made this process, or 0. */
static uid_t	became;

/*
 * Is the directory open as fd, whose mode and owner st gives, one where
 * every user can put what comes next (comp, missing when absent)?  So
 * it is when anyone may write it, unless it is sticky and comp exists:
 * then only comp's owner can replace it.
 */
static int
open_to_all(int fd, const struct stat *st, const char *comp)
{
	if (!(st->st_mode & S_IWOTH))
		return 0;
	if (!(st->st_mode & S_ISVTX) || *comp == '\0')
		return 1;
	return fstatat(fd, comp, &(struct stat){ 0 }, AT_SYMLINK_NOFOLLOW) ==
	    -1;
}

/*
 * Resolves path component by component as the kernel would, and returns
 * the first owner other than root of a directory passed through, a
 * symbolic link followed or the object named (with *gid the group of
 * what they own); ANYONE where a directory on the way is one every user
 * may write into (open_to_all()); 0 when root alone controls it.  A
 * missing component ends the walk: what exists up to there is what
 * counts.
 */
static uid_t
path_controller(const char *path, gid_t *gid)
{
	char		 rest[2 * PATH_MAX], next_rest[2 * PATH_MAX];
	char		 text[PATH_MAX], *comp, *slash;
	struct stat	 st;
	uid_t		 who = 0;
	ssize_t		 n;
	int		 fd, next, hops = 0;

	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return 0;
	if ((fd = open(*rest == '/' ? "/" : ".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return 0;
	/* A relative path passes through the working directory first. */
	if (*rest != '/' && (n = readlink("/proc/self/cwd", text,
	    sizeof(text) - 1)) > 0) {
		text[n] = '\0';
		if ((who = path_controller(text, gid)) != 0) {
			close(fd);
			return who;
		}
	}
	comp = rest;
	while (who == 0 && fd != -1) {
		while (*comp == '/')
			comp++;
		slash = comp + strcspn(comp, "/");
		if (*slash != '\0')
			*slash++ = '\0';
		if (fstat(fd, &st) == 0 && st.st_uid != 0) {
			who = st.st_uid;
			*gid = st.st_gid;
			break;
		}
		if (open_to_all(fd, &st, comp)) {
			who = ANYONE;
			break;
		}
		if (*comp == '\0')
			break;
		if (strcmp(comp, ".") == 0) {
			comp = slash;
			continue;
		}
		if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1)
			break;
		if (st.st_uid != 0) {
			who = st.st_uid;
			*gid = st.st_gid;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++hops > MAX_HOPS || (n = readlinkat(fd, comp,
			    text, sizeof(text) - 1)) == -1)
				break;
			text[n] = '\0';
			if (snprintf(next_rest, sizeof(next_rest), "%s/%s",
			    text, slash) >= (int)sizeof(next_rest))
				break;
			memcpy(rest, next_rest, sizeof(rest));
			comp = rest;
			if (*text == '/') {
				close(fd);
				fd = open("/", O_PATH | O_DIRECTORY |
				    O_CLOEXEC);
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			break;
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		fd = next;
		comp = slash;
	}
	if (fd != -1)
		close(fd);
	return who;
}

/*
 * Notes the user (other than root) who controls path, if any: the run
 * will be theirs.  Two different users are refused: a run as one of
 * them could not do the other's part, and a run as root must not; so
 * is a path every user can steer.  A run that was root and became a
 * user (runas_become()) still refuses a path it writes (write set) that
 * another user controls; one it only reads is theirs to allow.  Returns
 * 0, or -1 once the refusal is printed.
 */
int
runas_note(struct runas *ra, const char *prog, const char *path, int write)
{
	uid_t	uid;
	gid_t	gid = 0;

	if (path == NULL || (geteuid() != 0 && (became == 0 || !write)) ||
	    (uid = path_controller(path, &gid)) == 0)
		return 0;
	if (uid == ANYONE) {
		display_printf(stderr, "%s: refusing to run as root on %s: every user "
		    "can change where it leads (a directory on the way is "
		    "writable by all)\n", prog, path);
		return -1;
	}
	if (became != 0 && uid != became) {
		display_printf(stderr, "%s: refusing to run as root for two users: the "
		    "run became uid %lu's, and %s is uid %lu's\n", prog,
		    (unsigned long)became, path, (unsigned long)uid);
		return -1;
	}
	if (became != 0)
		return 0;
	if (!ra->set) {
		ra->set = 1;
		ra->uid = uid;
		ra->gid = gid;
		ra->path = xstrdup(path);
		return 0;
	}
	if (ra->uid == uid)
		return 0;
	display_printf(stderr, "%s: refusing to run as root for two users: %s is "
	    "uid %lu's and %s is uid %lu's\n", prog, ra->path,
	    (unsigned long)ra->uid, path, (unsigned long)uid);
	return -1;
}

/*
 * Becomes the user ra found, for good: their groups (from the user
 * database, else just the group of what they own), gid and uid.
 * Nothing found: stays root.  Returns 0, or -1 once the failure is
 * printed.
 */
int
runas_become(struct runas *ra, const char *prog)
{
	struct passwd	*pw;
	gid_t		 gid = ra->gid;
	int		 rc;

	if (!ra->set || geteuid() != 0)
		return 0;
	if ((pw = getpwuid(ra->uid)) != NULL) {
		gid = pw->pw_gid;
		rc = initgroups(pw->pw_name, gid);
	} else
		rc = setgroups(1, &gid);
	if (rc == 0)
		rc = setresgid(gid, gid, gid);
	if (rc == 0)
		rc = setresuid(ra->uid, ra->uid, ra->uid);
	if (rc == -1 || geteuid() != ra->uid || getegid() != gid) {
		display_printf(stderr, "%s: cannot become uid %lu (who controls "
		    "%s): %s\n", prog, (unsigned long)ra->uid, ra->path,
		    strerror(errno));
		return -1;
	}
	became = ra->uid;
	return 0;
}

void
runas_free(struct runas *ra)
{
	free(ra->path);
	memset(ra, 0, sizeof(*ra));
}
