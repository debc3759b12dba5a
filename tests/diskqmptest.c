/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diskqmptest.c: the QMP client against a fake, sometimes hostile, server;
 * plan validation, overlay naming, qemu-img output parsing and the
 * process runner. Spawns no QEMU, so it also runs under valgrind.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "disk_plan.h"
#include "qemu_img.h"
#include "qemu_monitor.h"
#include "testutils.h"
#include "util_error.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            goto cleanup; \
        } \
    } while (0)

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n"

typedef enum {
    HUGE_NONE,
    HUGE_LINE,     /* one enormous line */
    HUGE_NESTING,  /* deeply nested arrays */
    HUGE_EVENTS,   /* thousands of events before the reply */
    HUGE_NUL,      /* a NUL byte inside the message */
} hugeKind;

typedef struct {
    const char *title;
    const char *greeting;     /* NULL: a normal greeting; "" none at all */
    const char *reply;        /* sent after the test command; @ID@ is its id */
    hugeKind huge;
    bool closeAfter;          /* close the socket after the reply */
    int expectRc;             /* 0, -1, or 1 for "either, but no crash" */
    const char *expectError;  /* substring of the error message */
    unsigned int expectEvents;
    bool openFails;
} fakeCase;

typedef struct {
    const fakeCase *tc;
    int listenFd;
    unsigned int listenDelayMs;
} fakeServer;


static char *
fakeReadLine(int fd)
{
    GString *s = g_string_new(NULL);
    char c;

    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n <= 0) {
            g_string_free(s, TRUE);
            return NULL;
        }
        if (c == '\n')
            return g_string_free(s, FALSE);
        g_string_append_c(s, c);
    }
}


static void
fakeSend(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}


/* Sends @tmpl with every @ID@ replaced by the id of request @req. */
static void
fakeReply(int fd, const char *req, const char *tmpl)
{
    json_object *obj = json_tokener_parse(req);
    const char *id = obj ? xsnapJSONGetString(obj, "id") : NULL;
    g_auto(GStrv) parts = g_strsplit(tmpl, "@ID@", -1);
    g_autofree char *out = g_strjoinv(id ? id : "", parts);

    fakeSend(fd, out, strlen(out));
    json_object_put(obj);
}


/* Builds the big payloads up front, so slow runs (valgrind) do not time out. */
static GString *
fakeBuildHuge(hugeKind kind)
{
    GString *s = g_string_new(NULL);

    switch (kind) {
    case HUGE_LINE:
        g_string_append(s, "{\"return\": \"");
        for (size_t i = 0; i < 2 * 1024 * 1024; i++)
            g_string_append_c(s, 'a');
        g_string_append(s, "\"}\n");
        break;
    case HUGE_NESTING:
        g_string_append(s, "{\"return\": ");
        for (size_t i = 0; i < 100000; i++)
            g_string_append_c(s, '[');
        g_string_append(s, "\n");
        break;
    case HUGE_EVENTS:
        for (size_t i = 0; i < 5000; i++)
            g_string_append_printf(s, "{\"event\": \"E%zu\", \"data\": {}}\n", i);
        break;
    case HUGE_NUL:
        g_string_append_len(s, "{\"ret\0urn\": {}}\n", 17);
        break;
    case HUGE_NONE:
        break;
    }
    return s;
}


static gpointer
fakeServerRun(gpointer opaque)
{
    fakeServer *srv = opaque;
    const fakeCase *tc = srv->tc;
    g_autofree char *caps = NULL;
    g_autofree char *req = NULL;
    g_autoptr(GString) huge = fakeBuildHuge(tc->huge);
    int fd;

    if (srv->listenDelayMs)
        g_usleep(srv->listenDelayMs * 1000);
    listen(srv->listenFd, 1);
    if ((fd = accept(srv->listenFd, NULL, NULL)) < 0)
        return NULL;

    if (!tc->greeting)
        fakeSend(fd, GREETING, strlen(GREETING));
    else
        fakeSend(fd, tc->greeting, strlen(tc->greeting));

    /* A server that never greets answers nothing either (the client
     * sends qmp_capabilities without waiting for the greeting). */
    if (!(tc->greeting && !*tc->greeting) && (caps = fakeReadLine(fd))) {
        fakeReply(fd, caps, "{\"return\": {}, \"id\": \"@ID@\"}\r\n");
        if ((req = fakeReadLine(fd))) {
            fakeSend(fd, huge->str, huge->len);
            if (tc->reply)
                fakeReply(fd, req, tc->reply);
        }
    }
    if (!tc->closeAfter) {
        /* Stay connected until the client hangs up. */
        char buf[256];
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
    }
    close(fd);
    return NULL;
}


static int
fakeListen(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    unlink(path);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}


static int
testFake(const void *data)
{
    const fakeCase *tc = data;
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), "fake.sock", NULL);
    fakeServer srv = { .tc = tc, .listenFd = -1 };
    xsnapQemuMonitorConfig cfg;
    xsnapQemuMonitor *mon = NULL;
    json_object *ret = NULL;
    json_object *ev;
    GThread *th = NULL;
    unsigned int events = 0;
    int rc;
    int result = -1;

    CHECK((srv.listenFd = fakeListen(path)) >= 0);
    th = g_thread_new("fake-qmp", fakeServerRun, &srv);

    xsnapQemuMonitorConfigInit(&cfg);
    cfg.connectTimeoutMs =
        tc->expectError && strstr(tc->expectError, "timed out") ? 1000 : 10000;
    /* short only where the case is about a timeout: valgrind is slow */
    cfg.commandTimeoutMs =
        tc->expectError && strstr(tc->expectError, "timed out") ? 500 : 20000;
    cfg.maxLineBytes = 1024 * 1024;
    cfg.maxEvents = 100;
    mon = xsnapQemuMonitorOpen(path, &cfg);
    if (tc->openFails) {
        CHECK(!mon);
        CHECK(strstr(xsnapGetLastErrorMessage(), tc->expectError));
        result = 0;
        goto cleanup;
    }
    CHECK(mon);
    rc = xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("query-status", NULL),
                                 json_type_object, &ret);
    if (tc->expectRc != 1)
        CHECK(rc == tc->expectRc);
    if (rc < 0) {
        CHECK(xsnapGetLastErrorMessage() != NULL);
        if (g_getenv("VERBOSE"))
            fprintf(stderr, "    error: %s\n", xsnapGetLastErrorMessage());
    }
    if (tc->expectError)
        CHECK(rc < 0 && strstr(xsnapGetLastErrorMessage(), tc->expectError));
    if (tc->expectEvents == 2) {
        /* the queued event is found; a missing one times out, harmlessly */
        CHECK(xsnapQemuMonitorWaitEvent(mon, "B", 100, &ev) == 0);
        CHECK(g_str_equal(xsnapJSONGetString(ev, "event"), "B"));
        json_object_put(ev);
        CHECK(xsnapQemuMonitorWaitEvent(mon, "Z", 100, &ev) < 0);
        CHECK(xsnapGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT);
        CHECK(!xsnapQemuMonitorIsBroken(mon));
        events++;
    }
    while ((ev = xsnapQemuMonitorPopEvent(mon))) {
        events++;
        json_object_put(ev);
    }
    CHECK(events == tc->expectEvents);
    result = 0;

 cleanup:
    json_object_put(ret);
    xsnapQemuMonitorClose(mon);
    if (th) {
        /* Unblock a server still waiting in accept(). */
        shutdown(srv.listenFd, SHUT_RDWR);
        g_thread_join(th);
    }
    if (srv.listenFd >= 0)
        close(srv.listenFd);
    unlink(path);
    return result;
}


static const fakeCase fakeCases[] = {
    { .title = "reply matched by id among events and a stale reply",
      .reply = "{\"event\": \"A\", \"data\": {}}\r\n"
               "{\"return\": {\"old\": 1}, \"id\": \"stale-1\"}\r\n"
               "{\"event\": \"B\"}\r\n"
               "{\"return\": {\"status\": \"running\"}, \"id\": \"@ID@\"}\r\n",
      .expectRc = 0, .expectEvents = 2 },
    { .title = "error carries QEMU's class and desc",
      .reply = "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'x' not found\"}, \"id\": \"@ID@\"}\n",
      .expectRc = -1, .expectError = "Device 'x' not found (DeviceNotFound)" },
    { .title = "wrong return type",
      .reply = "{\"return\": [1], \"id\": \"@ID@\"}\n",
      .expectRc = -1, .expectError = "returned array where object was expected" },
    { .title = "malformed JSON",
      .reply = "{\"return\": {,}}\n",
      .expectRc = -1, .expectError = "malformed message" },
    { .title = "truncated reply, then EOF",
      .reply = "{\"return\": {\"a\": ", .closeAfter = true,
      .expectRc = -1, .expectError = "closed in the middle of a message" },
    { .title = "truncated reply, then silence",
      .reply = "{\"return\": {\"a\": ",
      .expectRc = -1, .expectError = "timed out" },
    { .title = "no reply at all",
      .expectRc = -1, .expectError = "timed out" },
    { .title = "EOF instead of a reply", .closeAfter = true,
      .expectRc = -1, .expectError = "closed QMP socket" },
    { .title = "reply is not an object",
      .reply = "[1, 2, 3]\n",
      .expectRc = -1, .expectError = "not a JSON object" },
    { .title = "trailing data after the reply",
      .reply = "{\"return\": {}, \"id\": \"@ID@\"} {\"x\": 1}\n",
      .expectRc = -1, .expectError = "trailing data" },
    { .title = "a 2 MiB line over a 1 MiB cap",
      .huge = HUGE_LINE, .reply = "{\"return\": {}, \"id\": \"@ID@\"}\n",
      .expectRc = -1, .expectError = "exceeds" },
    { .title = "100000 levels of nesting",
      .huge = HUGE_NESTING,
      .expectRc = -1, .expectError = "malformed message" },
    { .title = "5000 events before the reply, 100 kept",
      .huge = HUGE_EVENTS, .reply = "{\"return\": {}, \"id\": \"@ID@\"}\n",
      .expectRc = 0, .expectEvents = 100 },
    { .title = "reply without id",
      .reply = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n",
      .expectRc = -1, .expectError = "JSON parse error" },
    { .title = "reply with neither return nor error",
      .reply = "{\"id\": \"@ID@\", \"foo\": 1}\n",
      .expectRc = -1, .expectError = "unexpected message" },
    { .title = "error without class or desc",
      .reply = "{\"error\": 5, \"id\": \"@ID@\"}\n",
      .expectRc = -1, .expectError = "no description" },
    { .title = "id of the wrong type",
      .reply = "{\"return\": {}, \"id\": 42}\n",
      .expectRc = -1, .expectError = "timed out" },
    { .title = "invalid UTF-8 in a string",
      .reply = "{\"return\": {\"a\": \"\xff\xfe\"}, \"id\": \"@ID@\"}\n",
      .expectRc = 1 },
    { .title = "NUL byte inside a message",
      .huge = HUGE_NUL, .expectRc = -1 },
    { .title = "greeting that is not JSON",
      .greeting = "hello\r\n", .openFails = true,
      .expectError = "malformed message" },
    { .title = "greeting without QMP member",
      .greeting = "{\"hello\": 1}\r\n", .openFails = true,
      .expectError = "did not greet" },
    { .title = "server that never greets",
      .greeting = "", .openFails = true,
      .expectError = "timed out" },
};


static int
testNoSocket(const void *data XSNAP_UNUSED)
{
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), "missing.sock", NULL);
    g_autofree char *def = xsnapQemuMonitorDefaultPath(7);
    int ret = -1;

    CHECK(g_str_equal(def, "/var/run/xen/qmp-libxl-7"));
    CHECK(!xsnapQemuMonitorOpen(path, NULL));
    CHECK(strstr(xsnapGetLastErrorMessage(), "stub-domain"));
    ret = 0;
 cleanup:
    return ret;
}


/* A socket that refuses connections for a while is retried. */
static int
testRefusedThenListening(const void *data XSNAP_UNUSED)
{
    static const fakeCase tc = { .title = "late", .reply = "{\"return\": {}, \"id\": \"@ID@\"}\n" };
    g_autofree char *path = g_build_filename(xsnapTestTmpDir(), "late.sock", NULL);
    fakeServer srv = { .tc = &tc, .listenFd = -1, .listenDelayMs = 300 };
    xsnapQemuMonitor *mon = NULL;
    GThread *th = NULL;
    gint64 start = g_get_monotonic_time();
    int ret = -1;

    CHECK((srv.listenFd = fakeListen(path)) >= 0);
    th = g_thread_new("late-qmp", fakeServerRun, &srv);
    CHECK((mon = xsnapQemuMonitorOpen(path, NULL)));
    CHECK(g_get_monotonic_time() - start >= 250 * 1000);
    CHECK(xsnapQemuMonitorCommand(mon, xsnapQemuMonitorCommandNew("x", NULL),
                                  json_type_object, NULL) == 0);
    ret = 0;
 cleanup:
    xsnapQemuMonitorClose(mon);
    if (th) {
        shutdown(srv.listenFd, SHUT_RDWR);
        g_thread_join(th);
    }
    if (srv.listenFd >= 0)
        close(srv.listenFd);
    return ret;
}


static int
testOverlayNames(const void *data XSNAP_UNUSED)
{
    static const char *const cases[][3] = {
        { "/var/lib/xen/images/vm.qcow2", "s1", "/var/lib/xen/images/vm.s1" },
        { "/a/b.d/disk", "snap", "/a/b.d/disk.snap" },
        { "/a/disk.img.raw", "x", "/a/disk.img.x" },
        { "/a/.hidden", "s", "/a/.s" },
        { "disk", "s", "disk.s" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = xsnapDiskOverlayPathDefault(cases[i][0], cases[i][1]);
        if (!g_str_equal(got, cases[i][2])) {
            fprintf(stderr, "    %s + %s: got %s, want %s\n",
                    cases[i][0], cases[i][1], got, cases[i][2]);
            return -1;
        }
    }
    return 0;
}


static int
testPlanValidate(const void *data XSNAP_UNUSED)
{
    g_autofree char *existing = g_build_filename(xsnapTestTmpDir(), "exists.qcow2", NULL);
    int ret = -1;

    CHECK(g_file_set_contents(existing, "x", 1, NULL));
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "/d/a.s", false);
        xsnapDiskPlanAddDisk(p, "xvdb", "/d/b.img", "raw", XSNAP_DISK_SNAPSHOT_INTERNAL,
                             NULL, false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(xsnapGetLastErrorCode() == VIR_ERR_CONFIG_UNSUPPORTED);
        CHECK(strstr(xsnapGetLastErrorMessage(), "needs a qcow2 image"));
        /* refused before anything ran: the online entry point validates first */
        CHECK(xsnapDiskPlanRunOffline(p) < 0);
        CHECK(!g_file_test("/d/a.s", G_FILE_TEST_EXISTS));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "rel/a.s", false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "absolute"));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "/d/x.s", false);
        xsnapDiskPlanAddDisk(p, "xvdb", "/d/b.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "/d/x.s", false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "would both use overlay"));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             existing, false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "never overwritten"));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "/d/none.s", true);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "does not exist"));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_NO,
                             NULL, false);
        xsnapDiskPlanAddDisk(p, "xvda", "/d/b.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_NO,
                             NULL, false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "appears twice"));
    }
    {
        g_autoptr(xsnapDiskPlan) p = xsnapDiskPlanNew("s");
        xsnapDiskPlanAddDisk(p, "xvda", "/d/a.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_EXTERNAL,
                             "/d/b.qcow2", false);
        xsnapDiskPlanAddDisk(p, "xvdb", "/d/b.qcow2", "qcow2", XSNAP_DISK_SNAPSHOT_NO,
                             NULL, false);
        CHECK(xsnapDiskPlanValidate(p) < 0);
        CHECK(strstr(xsnapGetLastErrorMessage(), "is the image of disk"));
    }
    CHECK(g_str_equal(xsnapDiskSnapshotModeTypeToString(XSNAP_DISK_SNAPSHOT_EXTERNAL),
                      "external"));
    CHECK(xsnapDiskSnapshotModeTypeFromString("internal") == XSNAP_DISK_SNAPSHOT_INTERNAL);
    ret = 0;
 cleanup:
    unlink(existing);
    return ret;
}


static int
testImgInfoParse(const void *data XSNAP_UNUSED)
{
    const char *good =
        "{\"snapshots\": [{\"id\": \"1\", \"name\": \"s1\"}, {\"id\": \"2\", \"name\": \"s2\"}, 5],"
        " \"virtual-size\": 1048576, \"filename\": \"/x/top.qcow2\", \"format\": \"qcow2\","
        " \"backing-filename\": \"/x/base.img\", \"backing-filename-format\": \"raw\"}";
    static const char *const bad[] = {
        "", "not json", "[1]", "{\"filename\": \"x\"}", "{\"format\": 5}",
        "{\"format\": \"raw\"", "{\"format\": \"raw\"} trailing",
    };
    g_autoptr(xsnapQemuImgInfo) info = NULL;
    int ret = -1;

    CHECK((info = xsnapQemuImgInfoParse(good, "/x/top.qcow2")));
    CHECK(g_str_equal(info->format, "qcow2"));
    CHECK(g_str_equal(info->backingFile, "/x/base.img"));
    CHECK(g_str_equal(info->backingFormat, "raw"));
    CHECK(info->virtualSize == 1048576);
    CHECK(g_strv_length(info->snapshots) == 2);
    CHECK(xsnapQemuImgInfoHasSnapshot(info, "s2") && !xsnapQemuImgInfoHasSnapshot(info, "s3"));
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        xsnapQemuImgInfo *b = xsnapQemuImgInfoParse(bad[i], "/x");
        if (b && i < 5) {
            xsnapQemuImgInfoFree(b);
            fprintf(stderr, "    accepted: %s\n", bad[i]);
            goto cleanup;
        }
        xsnapQemuImgInfoFree(b);
    }
    ret = 0;
 cleanup:
    return ret;
}


static int
testCommandRun(const void *data XSNAP_UNUSED)
{
    const char *sleeper[] = { "sleep", "10", NULL };
    const char *failing[] = { "ls", "/nonexistent-xsnap-path", NULL };
    const char *echo[] = { "echo", "hello", NULL };
    const char *missing[] = { "/nonexistent/xsnap-tool", NULL };
    g_autofree char *out = NULL;
    gint64 start = g_get_monotonic_time();
    int ret = -1;

    CHECK(xsnapCommandRun(sleeper, 200, NULL) < 0);
    CHECK(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
    CHECK(xsnapGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT);
    CHECK(strstr(xsnapGetLastErrorMessage(), "was killed"));
    CHECK(xsnapCommandRun(failing, 5000, NULL) < 0);
    CHECK(strstr(xsnapGetLastErrorMessage(), "nonexistent-xsnap-path"));
    CHECK(strstr(xsnapGetLastErrorMessage(), "No such file"));
    CHECK(xsnapCommandRun(missing, 5000, NULL) < 0);
    CHECK(xsnapCommandRun(echo, 5000, &out) == 0);
    CHECK(g_str_equal(out, "hello\n"));
    ret = 0;
 cleanup:
    return ret;
}


static int
mymain(void)
{
    int ret = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(fakeCases); i++) {
        g_autofree char *title = g_strdup_printf("fake QMP: %s", fakeCases[i].title);
        if (xsnapTestRun(title, testFake, &fakeCases[i]) < 0)
            ret = -1;
    }
    if (xsnapTestRun("missing socket fails at once", testNoSocket, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("refused socket retried until it listens", testRefusedThenListening, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("libvirt overlay naming", testOverlayNames, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("plan validation", testPlanValidate, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("qemu-img info parsing", testImgInfoParse, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("process runner: timeout, stderr, output", testCommandRun, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
