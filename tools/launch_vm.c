/* SPDX-License-Identifier: MIT */
/*
 * launch_vm.c - the QEMU command line and the libvirt domain XML for an IGVM
 * file. QEMU: docs/system/igvm.rst and docs/system/i386/amd-memory-encryption.rst
 * (QEMU 10.1); libvirt: formatdomain "Launch Security" (sev-snp, libvirt 10.5+)
 * and the QEMU command-line passthrough namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/launch.h>
#include <veil/svsm.h>

#include "hostio.h"
#include "igvm.h"
#include "launch_tool.h"

/* The launch information page the VMSA's RDI names (guest/include/veil/launch.h). */
static int launch_info(const struct igvm_file *f, struct veil_launch_info *in)
{
	const uint8_t *vmsa = igvm_vmsa(f), *page;
	uint64_t rdi = 0;

	if (vmsa)
		memcpy(&rdi, vmsa + VMSA_RDI, 8);
	if (!vmsa || !(page = igvm_page_data_at(f, rdi)))
		return -1;
	memcpy(in, page, sizeof(*in));
	if (in->magic != VEIL_LAUNCH_MAGIC || in->version != VEIL_LAUNCH_VERSION ||
	    in->size != sizeof(*in))
		return -1;
	return 0;
}

int launch_vm_from_igvm(struct launch_vm *vm)
{
	struct veil_launch_info in;
	struct igvm_file f;
	uint8_t *buf = NULL;
	size_t len;
	char err[256];
	int rc = 0;

	if (hio_read(vm->igvm, 0, &buf, &len, err, sizeof(err)))
		return launch_fail(1, "%s", err);
	if (igvm_open(&f, buf, len, err, sizeof(err)))
		rc = launch_fail(1, "%s: %s", vm->igvm, err);
	else if (launch_info(&f, &in))
		rc = launch_fail(1, "%s: no Veil launch information (not made by veil-igvm build)",
				 vm->igvm);
	if (!rc) {
		vm->mem_mib = vm->mem_mib ? vm->mem_mib : in.mem_size >> 20;
		vm->vcpus = vm->vcpus ? vm->vcpus : in.nr_vcpus;
		vm->policy = igvm_policy(&f);
		if (vm->mem_mib << 20 != in.mem_size)
			rc = launch_fail(1,
					 "%s was built for %llu MiB (its monitor sits at the top "
					 "of memory), not %lu",
					 vm->igvm, (unsigned long long)(in.mem_size >> 20),
					 vm->mem_mib);
		else if (!realpath(vm->igvm, vm->igvm_abs))
			rc = launch_fail(1, "%s: %s", vm->igvm, strerror(errno));
	}
	free(buf);
	return rc;
}

static int push(struct launch_argv *av, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (av->n + 2 > av->cap) {
		av->cap = av->cap ? 2 * av->cap : 32;
		if (!(av->v = realloc(av->v, (size_t)av->cap * sizeof(*av->v))))
			return -1;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	av->v[av->n++] = s;
	av->v[av->n] = NULL;
	return s ? 0 : -1;
}

void launch_argv_free(struct launch_argv *av)
{
	for (int i = 0; i < av->n; i++)
		free(av->v[i]);
	free(av->v);
}

/* Objects are named by what they are: sev0, ram0, igvm0. */
int launch_qemu_argv(const struct launch_vm *vm, struct launch_argv *av)
{
	int rc = push(av, "%s", vm->qemu);

	rc |= push(av, "-name") | push(av, "%s", vm->name);
	rc |= push(av, "-machine") |
	      push(av, "q35,accel=kvm,confidential-guest-support=sev0,memory-backend=ram0,"
		       "igvm-cfg=igvm0");
	rc |= push(av, "-cpu") | push(av, "EPYC-v4");
	rc |= push(av, "-smp") | push(av, "%u", vm->vcpus);
	rc |= push(av, "-m") | push(av, "%luM", vm->mem_mib);
	rc |= push(av, "-object") |
	      push(av,
		   "memory-backend-memfd,id=ram0,size=%luM,share=true,prealloc=false,reserve=false",
		   vm->mem_mib);
	rc |= push(av, "-object") |
	      push(av, "sev-snp-guest,id=sev0,cbitpos=%u,reduced-phys-bits=%u,policy=0x%llx",
		   vm->cbitpos, vm->reduced_phys_bits, (unsigned long long)vm->policy);
	rc |= push(av, "-object") | push(av, "igvm-cfg,id=igvm0,file=%s", vm->igvm_abs);
	rc |= push(av, "-no-reboot") | push(av, "-nographic") | push(av, "-nodefaults") |
	      push(av, "-serial") | push(av, "stdio");
	return rc;
}

const char *launch_shell_quote(const char *s)
{
	static char buf[8192];
	size_t n = 0;

	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,=/:+") ==
	    strlen(s))
		return s;
	buf[n++] = '\'';
	for (; *s && n + 5 < sizeof(buf); s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* XML text: the IGVM path is the only free text; escape it. */
static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

char *launch_domain_xml(const struct launch_vm *vm)
{
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
		"  <name>%s</name>\n"
		"  <memory unit='MiB'>%lu</memory>\n"
		"  <vcpu>%u</vcpu>\n"
		"  <os>\n"
		"    <type arch='x86_64' machine='q35'>hvm</type>\n"
		"  </os>\n"
		"  <cpu mode='host-passthrough'/>\n"
		"  <memoryBacking>\n"
		"    <source type='memfd'/>\n"
		"    <access mode='shared'/>\n"
		"  </memoryBacking>\n"
		"  <launchSecurity type='sev-snp'>\n"
		"    <cbitpos>%u</cbitpos>\n"
		"    <reducedPhysBits>%u</reducedPhysBits>\n"
		"    <policy>0x%08llx</policy>\n"
		"  </launchSecurity>\n"
		"  <devices>\n"
		"    <emulator>%s</emulator>\n"
		"    <serial type='pty'/>\n"
		"    <console type='pty'/>\n"
		"  </devices>\n"
		"  <qemu:commandline>\n"
		"    <qemu:arg value='-object'/>\n"
		"    <qemu:arg value='igvm-cfg,id=igvm0,file=",
		vm->name, vm->mem_mib, vm->vcpus, vm->cbitpos, vm->reduced_phys_bits,
		(unsigned long long)vm->policy,
		vm->qemu[0] == '/' ? vm->qemu : "/usr/bin/qemu-system-x86_64");
	xml_escape(f, vm->igvm_abs);
	fprintf(f, "'/>\n"
		   "    <qemu:arg value='-machine'/>\n"
		   "    <qemu:arg value='igvm-cfg=igvm0'/>\n"
		   "  </qemu:commandline>\n"
		   "</domain>\n");
	if (fclose(f)) {
		free(xml);
		return NULL;
	}
	return xml;
}
