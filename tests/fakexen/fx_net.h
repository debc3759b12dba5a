/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx_net.h: the safety net below libxl (see fx_net.c)
 *
 * Nothing to call: the file only defines interposed Xen transport
 * functions.  This header exists so the list lives in one place.
 */
#pragma once
