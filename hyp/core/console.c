/*
 * The one physical console, shared by the hypervisor and every partition.
 *
 * Input goes to the partition with the focus; Ctrl-] followed by a digit moves the focus
 * (Ctrl-] twice sends one Ctrl-] through). Output of the focused partition goes straight
 * out; the others' output is held a line at a time and printed with a "[name] " prefix,
 * so lines never interleave mid-way. Every partition's current, unfinished line is kept,
 * so the focused one's prompt is printed again after a line from elsewhere, and a
 * partition that gains the focus shows the line it was in the middle of.
 *
 * The physical UART is a PL011 whose address comes from the board DTB; its baud rate is
 * left as the firmware set it.
 */
#include <stdarg.h>
#include <string.h>

#include "aarch64.h"
#include "hyp.h"
#include "kprintf.h"

#define ESCAPE_KEY 0x1d   /* Ctrl-] */

static volatile uint32_t *uart;
static spinlock_t console_lock = SPINLOCK_INIT;
static unsigned focus;
static bool escape_pending;
/* Who printed the last character on the screen, if it was not a newline: a partition
 * index, or -1 for a finished line. */
static int open_line = -1;

void console_init(uint64_t uart_base)
{
    uart = (volatile uint32_t *)(uintptr_t)uart_base;
    /* Without its FIFOs the PL011 holds one received character: a paste would be fed to
     * us a byte per poll. Turn them on, leaving the baud rate as the firmware set it; the
     * TRM asks for the UART to be disabled and idle while LCR_H changes. */
    if (!(uart[UART_LCR_H / 4] & UART_LCR_H_FEN)) {
        uint32_t cr = uart[UART_CR / 4];

        uart[UART_CR / 4] = cr & ~UART_CR_UARTEN;
        while (uart[UART_FR / 4] & UART_FR_BUSY)
            cpu_relax();
        uart[UART_LCR_H / 4] |= UART_LCR_H_FEN;
        uart[UART_CR / 4] = cr;
    }
}

static void phys_putc(uint8_t c)
{
    while (uart[UART_FR / 4] & UART_FR_TXFF)
        cpu_relax();
    uart[UART_DR / 4] = c;
}

static void phys_puts(const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        phys_putc((uint8_t)s[i]);
}

/* Start a line of our own: end the focused partition's open line first. */
static void begin_foreign_line(void)
{
    if (open_line >= 0)
        phys_puts("\r\n", 2);
    open_line = -1;
}

/* After a foreign line, show the focused partition's unfinished line again. */
static void restore_focused_line(void)
{
    struct partition *p = &partitions[focus];

    if (p->line_len) {
        phys_puts(p->line, p->line_len);
        open_line = (int)focus;
    }
}

static void print_prefixed_line(struct partition *p)
{
    unsigned n = p->line_len;

    while (n && (p->line[n - 1] == '\r' || p->line[n - 1] == '\n'))
        n--;
    begin_foreign_line();
    phys_putc('[');
    phys_puts(p->cfg->name, (unsigned)strlen(p->cfg->name));
    phys_puts("] ", 2);
    phys_puts(p->line, n);
    phys_puts("\r\n", 2);
    restore_focused_line();
}

/* Transmit callback of every partition's virtual UART; runs with console_lock held. */
static void partition_putc_locked(void *partition, uint8_t c)
{
    struct partition *p = partition;
    bool focused = p->index == focus;

    if (focused) {
        if (open_line != (int)p->index && open_line >= 0)
            begin_foreign_line();
        phys_putc(c);
        open_line = c == '\n' ? -1 : (int)p->index;
    }
    if (c == '\n') {
        if (!focused)
            print_prefixed_line(p);
        p->line_len = 0;
    } else {
        if (p->line_len == CONSOLE_LINE) {
            /* A line longer than we hold: show what we have and carry on, nothing lost. */
            if (!focused)
                print_prefixed_line(p);
            p->line_len = 0;
        }
        p->line[p->line_len++] = (char)c;
    }
}

void console_attach(struct partition *p)
{
    spin_lock(&console_lock);
    vuart_init(&p->uart, partition_putc_locked, p);
    p->line_len = 0;
    if (open_line == (int)p->index)
        begin_foreign_line();
    spin_unlock(&console_lock);
}

static void vlog_locked(const char *fmt, va_list ap)
{
    char buf[320];
    int n;

    n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    if ((unsigned)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    begin_foreign_line();
    phys_puts("[hyp] ", 6);
    phys_puts(buf, (unsigned)n);
    phys_puts("\r\n", 2);
    restore_focused_line();
}

void hyp_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    spin_lock(&console_lock);
    vlog_locked(fmt, ap);
    spin_unlock(&console_lock);
    va_end(ap);
}

/* For the crash path, which may already hold the lock or run before the MMU is on. */
void console_emergency(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    int n;

    if (!uart)
        return;
    va_start(ap, fmt);
    n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(buf))
        n = sizeof(buf) - 1;
    phys_puts("\r\n", 2);
    phys_puts(buf, n > 0 ? (unsigned)n : 0);
}

static void log_locked(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog_locked(fmt, ap);
    va_end(ap);
}

static void set_focus(unsigned index)
{
    if (index >= npartitions) {
        log_locked("no partition %u (there are %u: Ctrl-] then 0-%u)", index, npartitions,
                   npartitions - 1);
        return;
    }
    focus = index;
    log_locked("console: %s (partition %u) has the keyboard; Ctrl-] then 0-%u switches", partitions[index].cfg->name,
               index, npartitions - 1);
}

/* Deliver one received character, interpreting the focus escape. */
static void deliver(struct partition *p, uint8_t c)
{
    if (p->state == PARTITION_RUNNING)
        vuart_rx_push(&p->uart, c);
}

static void poll_input_locked(void)
{
    for (;;) {
        struct partition *p = &partitions[focus];
        uint8_t c;

        if (!uart)
            break;
        /* Leave characters in the UART while the partition's FIFO is full, so none is lost. */
        if (p->state == PARTITION_RUNNING && vuart_rx_space(&p->uart) < 2)
            break;
        if (uart[UART_FR / 4] & UART_FR_RXFE)
            break;
        c = (uint8_t)uart[UART_DR / 4];
        if (escape_pending) {
            escape_pending = false;
            if (c >= '0' && c <= '9')
                set_focus((unsigned)(c - '0'));
            else if (c == ESCAPE_KEY)
                deliver(p, c);
            else {
                deliver(p, ESCAPE_KEY);
                deliver(p, c);
            }
        } else if (c == ESCAPE_KEY) {
            escape_pending = true;
        } else {
            deliver(p, c);
        }
    }
}

uint32_t console_mmio(struct partition *p, uint32_t offset, unsigned size, bool write, uint32_t value)
{
    uint32_t result = 0;

    spin_lock(&console_lock);
    /* The partition polls its UART: that is when we look for new keystrokes. */
    poll_input_locked();
    if (write)
        vuart_write(&p->uart, offset, size, value);
    else
        result = vuart_read(&p->uart, offset, size);
    spin_unlock(&console_lock);
    return result;
}
