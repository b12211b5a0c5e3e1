/*
 * bench_timer.c: time one command for tests/bench.sh.
 *
 *   bench_timer [-r] [-b SECONDS] [-l LOGFILE] COMMAND [ARG...]
 *
 * Runs COMMAND (its output appended to LOGFILE, else discarded) and prints
 * one line: the wall time in milliseconds, then "ok", "exit N", "signal N"
 * or "timeout"; with -r, then the command's user and system CPU time in
 * milliseconds, its minor page faults and its voluntary context switches
 * (getrusage(2) of the child, from wait4).  With -b, a run still going after SECONDS is killed (with
 * its process group) and reported as "timeout".  The clock is
 * CLOCK_MONOTONIC around fork..waitpid, so a run costs one fork and exec
 * on top of the command itself, and no shell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t expired;

static void
on_alarm(int sig)
{
	(void)sig;
	expired = 1;
}

int
main(int argc, char **argv)
{
	unsigned budget = 0;
	const char *log = "/dev/null";
	int opt, rusage = 0;

	while ((opt = getopt(argc, argv, "+b:l:r")) != -1) {
		switch (opt) {
		case 'b': budget = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': log = optarg; break;
		case 'r': rusage = 1; break;
		default: goto usage;
		}
	}
	if (optind >= argc) {
usage:
		fprintf(stderr, "usage: bench_timer [-r] [-b SECONDS] [-l LOG] "
		    "COMMAND [ARG...]\n");
		return 2;
	}

	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out < 0) {
		perror(log);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: waitpid gets EINTR */
	sigaction(SIGALRM, &sa, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[optind], argv + optind);
		dprintf(out, "bench_timer: %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	if (budget > 0)
		alarm(budget);
	int status;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return 2;
		}
		if (expired) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (expired)
		printf("%.3f timeout", ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		printf("%.3f ok", ms);
	else if (WIFEXITED(status))
		printf("%.3f exit %d", ms, WEXITSTATUS(status));
	else
		printf("%.3f signal %d", ms, WTERMSIG(status));
	if (rusage)
		printf(" %.3f %.3f %ld %ld",
		    (double)ru.ru_utime.tv_sec * 1e3 +
		    (double)ru.ru_utime.tv_usec / 1e3,
		    (double)ru.ru_stime.tv_sec * 1e3 +
		    (double)ru.ru_stime.tv_usec / 1e3,
		    ru.ru_minflt, ru.ru_nvcsw);
	printf("\n");
	return 0;
}
