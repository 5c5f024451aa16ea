// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the command people run. Reads the files of cowstat.ko under
 * /sys/kernel/debug/cowstat/ (see include/cowstat.h and Documentation/cowstat.rst).
 *
 * Errors are one line on stderr and exit status 1; usage errors exit 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#include <cowstat.h>

static const char *prog = "cowstat";

/* __printf comes from the Makefile, like the kernel's compiler_attributes.h. */
static noreturn __printf(1, 2) void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-h] COMMAND [ARGS]\n"
		"\n"
		"Per-process copy-on-write statistics (needs the cowstat.ko module).\n"
		"\n"
		"commands:\n"
		"  version     print the tool's and the loaded module's versions\n"
		"\n"
		"examples:\n"
		"  sudo insmod cowstat.ko && sudo %s version\n",
		prog, prog);
}

/*
 * Open a file of the module's debugfs directory, or exit with the reason it is not there:
 * not root (debugfs is root only), debugfs not mounted, or the module not loaded.
 */
static FILE *open_module_file(const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, name);
	f = fopen(path, "r");
	if (f)
		return f;
	if (errno == EACCES || errno == EPERM)
		fatal("%s: permission denied (cowstat's files are root only: run as root)", path);
	if (access("/sys/kernel/debug", X_OK) != 0 && geteuid() != 0)
		fatal("cannot read /sys/kernel/debug: run as root");
	if (access("/sys/kernel/debug/cowstat", F_OK) != 0)
		fatal("module not loaded (%s missing): load it with 'insmod cowstat.ko' as root",
		      COWSTAT_DEBUGFS_DIR);
	fatal("%s: %s", path, strerror(errno));
}

/* Read "key value" lines of the version file; check the interface version matches ours. */
static int cmd_version(void)
{
	char line[128], modver[64] = "";
	long ifver = -1;
	FILE *f;

	printf("cowstat tool %s (interface %d)\n", COWSTAT_VERSION, COWSTAT_IF_VERSION);
	f = open_module_file(COWSTAT_FILE_VERSION);
	while (fgets(line, sizeof(line), f)) {
		char key[32], val[64], extra;

		if (sscanf(line, "%31s %63s %c", key, val, &extra) != 2)
			fatal("malformed line in %s: %.40s", COWSTAT_FILE_VERSION, line);
		if (!strcmp(key, "module_version")) {
			snprintf(modver, sizeof(modver), "%s", val);
		} else if (!strcmp(key, "interface_version")) {
			char *end;

			errno = 0;
			ifver = strtol(val, &end, 10);
			if (errno || *end || ifver < 0)
				fatal("malformed interface_version in %s: %s",
				      COWSTAT_FILE_VERSION, val);
		}
	}
	fclose(f);
	if (!modver[0] || ifver < 0)
		fatal("%s of the module is incomplete", COWSTAT_FILE_VERSION);
	printf("cowstat module %s (interface %ld)\n", modver, ifver);
	if (ifver != COWSTAT_IF_VERSION)
		fatal("module interface %ld does not match this tool's %d: %s",
		      ifver, COWSTAT_IF_VERSION, "use the tool built with the module");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "version"))
		return cmd_version();
	fprintf(stderr, "%s: unknown command '%s' (see '%s -h')\n", prog, argv[optind], prog);
	return 2;
}
