/* SPDX-License-Identifier: MIT */
/*
 * uart.h - the two 8250/16550A serial ports the hypervisor model emulates
 * behind IOIO: COM1 (0x3F8, the console) and COM2 (0x2F8, the --com2 data
 * channel). COM1 also receives: from the console's input file
 * (emu_config.console_in), once the driver enabled the receive interrupt.
 */
#ifndef VEIL_EMU_UART_H
#define VEIL_EMU_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_COM1 0x3F8
#define UART_COM2 0x2F8

/* The registers a driver can read back (16550A data sheet, register map). */
struct emu_uart {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_int;	/* THR-empty interrupt identified (IER.ETBEI), not yet read */
	uint8_t rx[64]; /* received, not yet read from RBR */
	unsigned rx_head, rx_n;
	bool in_eof; /* the input ended (an EOT was queued for it) */
};

struct emu_machine;

/* A one-byte OUT to port: true when it transmits val (the data register with
 * DLAB clear), false when it went to a UART register or the port is not a
 * UART's. */
bool uart_out(struct emu_machine *m, unsigned port, uint8_t val);

/* An IN from port: the UART register, or all ones (no device). */
uint32_t uart_in(struct emu_machine *m, unsigned port);

#endif
