/*
 * virt_xen_snapshot.c: the virt-xen-snapshot command-line tool
 */
#include <config.h>

#include <stdio.h>

#include "internal.h"

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
