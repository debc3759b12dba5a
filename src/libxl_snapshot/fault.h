/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.h: named points inside the snapshot operations where a test can
 * make the operation fail, or the whole process die, on purpose
 *
 * Inert unless the environment variable XSNAP_FAULT_FILE names a file.
 * That file is read at every point, so a test changes it between
 * operations without restarting libvirtd. Each line is
 *     fail <point>     the step reports VIR_ERR_OPERATION_FAILED
 *     crash <point>    the process kills itself with SIGKILL
 *     pause <point>    the step waits while that line is in the file
 *                      (at most a minute), so that a test can run
 *                      another operation at that moment
 * and each point reached is appended, one name a line, to
 * "<XSNAP_FAULT_FILE>.trace", so a test can list the points an operation
 * passes and then inject a fault at each of them.
 */
#pragma once

#include "internal.h"

/*
 * Marks that the operation is about to run step @point ("create:disks").
 * Returns 0 to go on, or -1 with an error reported when a fault is
 * injected there. Never returns when a crash is injected there.
 */
int xsnapFaultPoint(const char *point);

/*
 * For benchmarks: when the environment variable XSNAP_TIMING_FILE names
 * a file, appends one line "@what key=value ..." of @n (name, value in
 * milliseconds) pairs to it; inert otherwise. Called after the guest
 * runs again, so that writing the line costs the pause nothing.
 */
void xsnapTimingLog(const char *what, size_t n, const char *const *names,
                    const double *values);
