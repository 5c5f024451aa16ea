// SPDX-License-Identifier: GPL-2.0
/* cowstat version: the tool's and the loaded module's versions. */
#include <stdlib.h>

#include "format.h"
#include "modfiles.h"
#include "tool.h"

static void version_help(FILE *f)
{
	fprintf(f, "usage: %s version [--json]\n\n"
		"Print the tool's and the loaded module's versions; fails when they differ.\n\n"
		"examples:\n  sudo %s version\n  sudo %s version --json\n", cowstat_prog,
		cowstat_prog, cowstat_prog);
}

/* The JSON document of version; module is NULL when it cannot be read. */
static void version_json(const char *modver, long ifver)
{
	struct cowstat_json j;

	cowstat_json_init(&j, stdout);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_str(&j, "tool_version", COWSTAT_VERSION);
	cowstat_json_i64(&j, "interface_version", COWSTAT_IF_VERSION);
	if (modver) {
		cowstat_json_open(&j, "module", '{');
		cowstat_json_str(&j, "version", modver);
		cowstat_json_i64(&j, "interface_version", ifver);
		cowstat_json_close(&j, '}');
	} else {
		cowstat_json_null(&j, "module");
	}
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

int cowstat_cmd_version(int argc, char **argv)
{
	char err[COWSTAT_ERR_MAX], modver[64], why[COWSTAT_ERR_MAX];
	const char *fail = NULL;
	char *buf = NULL;
	long ifver = -1;

	if (cowstat_getopt(argc, argv, "", NULL, version_help) != -1 || optind != argc)
		cowstat_usage_error("version takes no arguments");
	if (!cowstat_opts.json) {
		printf("cowstat tool %s (interface %d)\n", COWSTAT_VERSION, COWSTAT_IF_VERSION);
		fflush(stdout);
	}
	if (!cowstat_module_usable(why)) {
		fail = why;
	} else if (cowstat_read_file(COWSTAT_FILE_VERSION, &buf, err)) {
		fail = err;
		buf = NULL;
	} else if (cowstat_parse_version(buf, modver, sizeof(modver), &ifver, err)) {
		snprintf(why, sizeof(why), "malformed module output: %.120s", err);
		fail = why;
	}
	free(buf);
	/* The tool's version is printed even when the module's cannot be read. */
	if (cowstat_opts.json)
		version_json(fail ? NULL : modver, ifver);
	if (fail)
		cowstat_fatal("%s", fail);
	if (!cowstat_opts.json)
		printf("cowstat module %s (interface %ld)\n", modver, ifver);
	if (ifver != COWSTAT_IF_VERSION)
		cowstat_fatal("module interface %ld does not match this tool's %d: %s",
			      ifver, COWSTAT_IF_VERSION, "use the tool built with the module");
	return 0;
}
