// SPDX-License-Identifier: GPL-2.0
/*
 * Module life cycle: load -> debugfs directory and version file present, root only, content
 * exactly as include/cowstat.h says -> a second load fails with EEXIST and changes nothing ->
 * unload -> everything gone.
 *
 * Runs with the module NOT loaded; the .ko to test is named by $COWSTAT_KO.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

FIXTURE(lifecycle) {
	const char *ko;
};

FIXTURE_SETUP(lifecycle)
{
	struct stat st;

	if (geteuid() != 0)
		SETUP_SKIP("needs root to load modules");
	self->ko = getenv("COWSTAT_KO");
	if (!self->ko)
		SETUP_SKIP("COWSTAT_KO (path of cowstat.ko to test) not set");
	ASSERT_EQ(0, stat(self->ko, &st)) TH_LOG("%s: %s", self->ko, strerror(errno));
	if (stat(COWSTAT_DEBUGFS_DIR, &st) == 0)
		SETUP_SKIP("cowstat is already loaded; this test loads it itself");
}

FIXTURE_TEARDOWN(lifecycle)
{
	struct stat st;

	if (stat(COWSTAT_DEBUGFS_DIR, &st) == 0)
		cowstat_unload();
}

TEST_F(lifecycle, load_version_unload)
{
	char expect[128], buf[256];
	struct stat st;

	ASSERT_EQ(0, cowstat_load(self->ko, "")) TH_LOG("finit_module: %s", strerror(errno));

	ASSERT_EQ(0, stat(COWSTAT_DEBUGFS_DIR, &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, stat(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_VERSION, &st));
	EXPECT_EQ(0400, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);

	snprintf(expect, sizeof(expect), "module_version %s\ninterface_version %d\n",
		 COWSTAT_VERSION, COWSTAT_IF_VERSION);
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_VERSION, buf, sizeof(buf)));
	EXPECT_STREQ(expect, buf);

	/* A second instance is refused cleanly and the first keeps working. */
	EXPECT_EQ(-1, cowstat_load(self->ko, ""));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_VERSION, buf, sizeof(buf)));
	EXPECT_STREQ(expect, buf);

	ASSERT_EQ(0, cowstat_unload()) TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_EQ(-1, stat(COWSTAT_DEBUGFS_DIR, &st));
	EXPECT_EQ(ENOENT, errno);

	/* And it loads again after a clean unload. */
	ASSERT_EQ(0, cowstat_load(self->ko, "")) TH_LOG("reload: %s", strerror(errno));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_VERSION, buf, sizeof(buf)));
	EXPECT_STREQ(expect, buf);
	ASSERT_EQ(0, cowstat_unload());
}

/*
 * A load with snapshot_max_frames above COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT is refused with
 * EINVAL (nothing is created); at the limit it loads and keeps the value.
 */
TEST_F(lifecycle, max_frames_refused_at_load)
{
	char params[64];
	struct stat st;

	snprintf(params, sizeof(params), "snapshot_max_frames=%lu",
		 COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT + 1);
	EXPECT_EQ(-1, cowstat_load(self->ko, params));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, stat(COWSTAT_DEBUGFS_DIR, &st));
	EXPECT_EQ(-1, cowstat_load(self->ko, "snapshot_max_frames=18446744073709551616"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, stat(COWSTAT_DEBUGFS_DIR, &st));

	snprintf(params, sizeof(params), "snapshot_max_frames=%lu",
		 COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT);
	ASSERT_EQ(0, cowstat_load(self->ko, params)) TH_LOG("finit_module: %s", strerror(errno));
	EXPECT_EQ(COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT, cowstat_param_get("snapshot_max_frames"));
	ASSERT_EQ(0, cowstat_unload());
}

TEST_HARNESS_MAIN
