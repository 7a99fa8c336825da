/* SPDX-License-Identifier: MIT */
/*
 * hello.c - the smallest enclave: greets its host through the write ocall,
 * keeps a counter in its own memory (which persists across entries and which
 * the OS cannot read) and answers
 * (arg << 16) | (greeting checksum << 8) | (entries so far).
 */
#include <veil/enclave.h>

static const char greeting[] = "hello from an enclave";
static uint64_t entries;

uint64_t enclave_main(uint64_t arg)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < strlen(greeting); i++)
		sum += (unsigned char)greeting[i];
	entries++;
	printf("%s (entry %lu, pid %ld)\n", greeting, (unsigned long)entries, getpid());
	return (arg << 16) | ((sum & 0xFF) << 8) | (entries & 0xFF);
}
