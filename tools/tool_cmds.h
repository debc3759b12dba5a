/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool_cmds.h: the subcommands of virt-xen-snapshot
 *
 * Each takes the arguments after its own name (argv[0] is the
 * subcommand) and returns the process exit status.
 */
#pragma once

int vxsCmdXml(int argc, char **argv);
int vxsCmdList(int argc, char **argv);
int vxsCmdInstall(int argc, char **argv);
int vxsCmdUninstall(int argc, char **argv);
int vxsCmdDoctor(int argc, char **argv);
int vxsCmdCleanup(int argc, char **argv);
int vxsCmdClone(int argc, char **argv);
int vxsCmdConvertImage(int argc, char **argv);

/* Prints one line per journal of an interrupted snapshot operation under
 * @libDir (doctor's check). Returns how many there are. */
int vxsCleanupReport(const char *libDir);

/* True if @path is the snapshot wrapper module (by its marker string). */
bool vxsFileIsWrapper(const char *path);

/* Prints the thread's last error to stderr, prefixed with the program name. */
void vxsPrintError(void);
