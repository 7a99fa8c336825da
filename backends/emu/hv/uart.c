/* SPDX-License-Identifier: MIT */
/*
 * uart.c - 8250/16550A registers for COM1 and COM2 (National Semiconductor
 * PC16550D data sheet, "Register Description"; Linux
 * include/uapi/linux/serial_reg.h names them). Enough for a driver to probe
 * the port and program it: the divisor latch behind LCR.DLAB, scratch and
 * loopback (MCR.LOOP drives MSR from MCR, as the 8250 driver's probe checks),
 * the FIFO bits of IIR once FCR enables them, and a transmitter that is
 * always empty (LSR.THRE|TEMT), since output is written at once. The THR
 * empty interrupt is identified in IIR as the data sheet says (raised when
 * IER.ETBEI is set or a character is written, as the THR is then empty;
 * cleared by the IIR read that reports it or by clearing ETBEI), although no
 * interrupt line carries it: Linux's 8250 driver, polling a port without an
 * IRQ, transmits only when IIR names this interrupt.
 *
 * Receive (COM1): bytes of the console's input file reach RBR with LSR.DR
 * set and the received-data interrupt identified in IIR (priority over THR
 * empty) while IER.ERBFI is set; FCR's receiver reset drops them. The model
 * reads its input only once the driver enabled that interrupt (the port is
 * open), so what was typed or piped before waits on the host side instead of
 * being flushed by the driver's start-up. The end of a piped input becomes
 * one EOT (Ctrl-D), which ends a line-mode read as the end of a terminal's
 * input does. Linux polls the port (IRQ 0, see FIDELITY.md), so no interrupt
 * line is needed.
 */
#include <poll.h>
#include <unistd.h>

#include "machine.h"
#include "uart.h"

enum {
	RBR_THR,
	IER,
	IIR_FCR,
	LCR,
	MCR,
	LSR,
	MSR,
	SCR
};

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_THRE_TEMT 0x60
#define LSR_DR 0x01
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IIR_FIFO 0xC0
#define FCR_CLEAR_RCVR 0x02
#define ASCII_EOT 0x04

static struct emu_uart *uart_of(struct emu_machine *m, unsigned port, unsigned *reg)
{
	*reg = port & 7;
	if ((port & ~7u) == UART_COM1)
		return &m->uart[0];
	if ((port & ~7u) == UART_COM2)
		return &m->uart[1];
	return NULL;
}

bool uart_out(struct emu_machine *m, unsigned port, uint8_t val)
{
	unsigned reg;
	struct emu_uart *u = uart_of(m, port, &reg);
	bool dlab;

	if (!u)
		return false;
	dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case RBR_THR:
		if (dlab) {
			u->dll = val;
			return false;
		}
		u->thre_int = u->ier & IER_ETBEI; /* sent at once: THR empty again */
		return !(u->mcr & MCR_LOOP);	  /* loopback output goes nowhere */
	case IER:
		if (dlab)
			u->dlm = val;
		else {
			u->thre_int = (val & IER_ETBEI) != 0;
			u->ier = val & 0x0F;
		}
		break;
	case IIR_FCR:
		u->fcr = val & 0xC9; /* reset bits 1-2 self-clear */
		if (val & FCR_CLEAR_RCVR)
			u->rx_n = 0;
		break;
	case LCR:
		u->lcr = val;
		break;
	case MCR:
		u->mcr = val & 0x1F;
		break;
	case SCR:
		u->scr = val;
		break;
	}
	return false;
}

/* Modem status: in loopback, DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD;
 * otherwise a connected line (DCD, DSR, CTS). */
static uint8_t modem_status(const struct emu_uart *u)
{
	uint8_t mcr = u->mcr;

	if (!(mcr & MCR_LOOP))
		return 0xB0;
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) |
			 ((mcr & 0x08) << 4));
}

/* Take what the console's input has for COM1, without waiting for it. */
static void rx_fill(struct emu_machine *m, struct emu_uart *u)
{
	struct pollfd p;
	ssize_t n;

	if (u != &m->uart[0] || !m->cfg.console_in || u->in_eof || u->rx_n || !(u->ier & IER_ERBFI))
		return;
	p = (struct pollfd){ .fd = fileno(m->cfg.console_in), .events = POLLIN };
	if (poll(&p, 1, 0) != 1)
		return;
	u->rx_head = 0;
	n = read(p.fd, u->rx, sizeof(u->rx));
	if (n > 0) {
		u->rx_n = (unsigned)n;
		return;
	}
	u->in_eof = true; /* end of input (or an error): one EOT, then nothing */
	u->rx[0] = ASCII_EOT;
	u->rx_n = 1;
}

static uint8_t rx_take(struct emu_uart *u)
{
	uint8_t c;

	if (!u->rx_n)
		return 0;
	c = u->rx[u->rx_head++];
	u->rx_n--;
	return c;
}

uint32_t uart_in(struct emu_machine *m, unsigned port)
{
	unsigned reg;
	struct emu_uart *u = uart_of(m, port, &reg);
	bool dlab;

	if (!u)
		return 0xFFFFFFFFu;
	dlab = u->lcr & LCR_DLAB;
	if (!dlab && (reg == IIR_FCR || reg == LSR))
		rx_fill(m, u);
	switch (reg) {
	case RBR_THR:
		return dlab ? u->dll : rx_take(u);
	case IER:
		return dlab ? u->dlm : u->ier;
	case IIR_FCR: {
		uint32_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;

		if (u->rx_n && (u->ier & IER_ERBFI))
			return IIR_RDI | fifo;
		if (u->thre_int) {
			u->thre_int = false;
			return IIR_THRI | fifo;
		}
		return IIR_NO_INT | fifo;
	}
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE_TEMT | (u->rx_n ? LSR_DR : 0);
	case MSR:
		return modem_status(u);
	default:
		return u->scr;
	}
}
