/* SPDX-License-Identifier: MIT */
/* launch_tool.h - the parts of veil-launch (veil-launch.c: commands; launch_vm.c:
 * QEMU command line and libvirt domain XML; launch_check.c: host readiness). */
#ifndef VEIL_LAUNCH_TOOL_H
#define VEIL_LAUNCH_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostio.h"

/* What a launch needs; zero fields take the IGVM file's values. */
struct launch_vm {
	const char *igvm, *qemu, *name;
	char igvm_abs[4096];
	unsigned long mem_mib;
	unsigned vcpus, cbitpos, reduced_phys_bits;
	uint64_t policy;
};
#define LAUNCH_VM_INIT                                                       \
	{                                                                    \
		.qemu = "qemu-system-x86_64", .name = "veil", .cbitpos = 51, \
		.reduced_phys_bits = 1                                       \
	}

struct launch_argv {
	char **v;
	int n, cap;
};

/* Print "veil-launch: MESSAGE" on stderr and return rc. */
#define launch_fail(rc, ...) hio_fail("veil-launch", rc, __VA_ARGS__)

/* Read the file's launch information (memory, vCPUs, policy) into the zero
 * fields of vm. Returns 0 or an exit status, after a message. */
int launch_vm_from_igvm(struct launch_vm *vm);
int launch_qemu_argv(const struct launch_vm *vm, struct launch_argv *av);
void launch_argv_free(struct launch_argv *av);
const char *launch_shell_quote(const char *s);	     /* static buffer */
char *launch_domain_xml(const struct launch_vm *vm); /* malloc'd */

int launch_cmd_check(int argc, char **argv);

#endif
