/*
 * Unit tests for the emulated PL011 (hyp/core/vuart.c): reset values, the flag register
 * against the receive FIFO level, DR in both directions, the writable bits of each
 * register, the PrimeCell ID registers a driver probes, interrupt status against the
 * IFLS trigger level, narrow reads, and the console side (vuart_rx_push/space).
 *
 * Register values are spelled out from the PL011 TRM (ARM DDI 0183) rather than taken
 * from vuart.c, so an encoding mistake there cannot hide behind a shared constant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vuart.h"

/* Everything the guest has transmitted, in order. */
struct tx_log {
    uint8_t bytes[256];
    unsigned n;
};

static void tx_capture(void *ctx, uint8_t c)
{
    struct tx_log *log = ctx;

    assert_true(log->n < sizeof(log->bytes));
    log->bytes[log->n++] = c;
}

struct fixture {
    struct vuart u;
    struct tx_log log;
};

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0xa5, sizeof(f));   /* vuart_init must not rely on zeroed memory */
    f.log.n = 0;
    vuart_init(&f.u, tx_capture, &f.log);
    *state = &f;
    return 0;
}

static uint32_t rd(struct vuart *u, uint32_t off)
{
    return vuart_read(u, off, 4);
}

static void wr(struct vuart *u, uint32_t off, uint32_t v)
{
    vuart_write(u, off, 4, v);
}

static void fill(struct vuart *u, unsigned n, uint8_t first)
{
    for (unsigned i = 0; i < n; i++)
        assert_true(vuart_rx_push(u, (uint8_t)(first + i)));
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;

    /* CR: TXE | RXE (UARTEN clear); IFLS: both triggers at half full. */
    assert_int_equal(rd(&f->u, UART_CR), 0x300);
    assert_int_equal(rd(&f->u, UART_IFLS), 0x12);
    assert_int_equal(rd(&f->u, UART_IBRD), 0);
    assert_int_equal(rd(&f->u, UART_FBRD), 0);
    assert_int_equal(rd(&f->u, UART_LCR_H), 0);
    assert_int_equal(rd(&f->u, UART_IMSC), 0);
    assert_int_equal(rd(&f->u, UART_DMACR), 0);
    assert_int_equal(rd(&f->u, UART_RSR), 0);
    assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO);
    assert_false(vuart_rx_full(&f->u));
    assert_int_equal(f->log.n, 0);
}

static void test_fr_empty(void **state)
{
    struct fixture *f = *state;
    uint32_t fr = rd(&f->u, UART_FR);

    assert_true(fr & UART_FR_RXFE);
    assert_false(fr & UART_FR_RXFF);
    /* Transmit is immediate: TX FIFO always empty, never full, never busy. */
    assert_true(fr & UART_FR_TXFE);
    assert_false(fr & UART_FR_TXFF);
    assert_false(fr & UART_FR_BUSY);
    /* Bit values per the TRM, independent of the header's names. */
    assert_int_equal(fr, (1u << 4) | (1u << 7));
}

static void test_fr_not_empty(void **state)
{
    struct fixture *f = *state;
    uint32_t fr;

    fill(&f->u, 1, 'a');
    fr = rd(&f->u, UART_FR);
    assert_false(fr & UART_FR_RXFE);
    assert_false(fr & UART_FR_RXFF);
    assert_true(fr & UART_FR_TXFE);
    assert_false(fr & UART_FR_TXFF);
}

static void test_fr_full(void **state)
{
    struct fixture *f = *state;
    uint32_t fr;

    fill(&f->u, VUART_RX_FIFO, 0);
    fr = rd(&f->u, UART_FR);
    assert_false(fr & UART_FR_RXFE);
    assert_true(fr & UART_FR_RXFF);
    assert_true(fr & UART_FR_TXFE);
    assert_false(fr & UART_FR_TXFF);

    /* One read frees a slot: no longer full. */
    (void)rd(&f->u, UART_DR);
    assert_false(rd(&f->u, UART_FR) & UART_FR_RXFF);
}

static void test_dr_read_order(void **state)
{
    struct fixture *f = *state;
    const char *msg = "hello";

    for (unsigned i = 0; msg[i]; i++)
        assert_true(vuart_rx_push(&f->u, (uint8_t)msg[i]));
    for (unsigned i = 0; msg[i]; i++)
        assert_int_equal(rd(&f->u, UART_DR), (uint8_t)msg[i]);
    /* Empty again: DR reads 0 and nothing else changes. */
    assert_int_equal(rd(&f->u, UART_DR), 0);
    assert_int_equal(rd(&f->u, UART_DR), 0);
    assert_true(rd(&f->u, UART_FR) & UART_FR_RXFE);
    assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO);
}

/* The FIFO is a ring: keep it half full across many wraps and check nothing is lost. */
static void test_dr_ring_wraps(void **state)
{
    struct fixture *f = *state;
    unsigned in = 0, out = 0;

    for (unsigned round = 0; round < 10 * VUART_RX_FIFO; round++) {
        while (vuart_rx_space(&f->u) > VUART_RX_FIFO / 2)
            assert_true(vuart_rx_push(&f->u, (uint8_t)in++));
        for (int k = 0; k < 3; k++)
            assert_int_equal(rd(&f->u, UART_DR), (uint8_t)out++);
    }
    while (out != in)
        assert_int_equal(rd(&f->u, UART_DR), (uint8_t)out++);
    assert_true(rd(&f->u, UART_FR) & UART_FR_RXFE);
}

static void test_dr_write_transmits(void **state)
{
    struct fixture *f = *state;

    wr(&f->u, UART_DR, 'h');
    wr(&f->u, UART_DR, 'i');
    /* Only the data byte goes out, not the upper bits of the store. */
    wr(&f->u, UART_DR, 0xffffff00u | '!');
    /* A byte store (strb) to DR is how most early consoles write. */
    vuart_write(&f->u, UART_DR, 1, '\n');
    assert_int_equal(f->log.n, 4);
    assert_memory_equal(f->log.bytes, "hi!\n", 4);
    /* Transmitting does not feed the receive side. */
    assert_true(rd(&f->u, UART_FR) & UART_FR_RXFE);
}

static void test_dr_write_while_disabled(void **state)
{
    struct fixture *f = *state;

    /* Early consoles write before enabling the UART; the byte must not be lost. */
    wr(&f->u, UART_CR, 0);
    wr(&f->u, UART_DR, 'x');
    assert_int_equal(f->log.n, 1);
    assert_int_equal(f->log.bytes[0], 'x');
}

static void test_ro_registers_ignore_writes(void **state)
{
    struct fixture *f = *state;
    uint32_t fr = rd(&f->u, UART_FR), ris = rd(&f->u, UART_RIS), mis = rd(&f->u, UART_MIS);

    wr(&f->u, UART_FR, 0xffffffffu);
    wr(&f->u, UART_RIS, 0xffffffffu);
    wr(&f->u, UART_MIS, 0xffffffffu);
    for (uint32_t off = 0xfe0; off <= 0xffc; off += 4)
        wr(&f->u, off, 0);
    assert_int_equal(rd(&f->u, UART_FR), fr);
    assert_int_equal(rd(&f->u, UART_RIS), ris);
    assert_int_equal(rd(&f->u, UART_MIS), mis);
    assert_int_equal(rd(&f->u, 0xfe0), 0x11);
    assert_int_equal(rd(&f->u, 0xffc), 0xb1);
    /* None of these is DR: nothing was transmitted. */
    assert_int_equal(f->log.n, 0);
}

static void test_writable_masks(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint32_t off, mask;
    } regs[] = {
        { UART_IBRD, 0xffff },  /* 16-bit integer divisor */
        { UART_FBRD, 0x3f },    /* 6-bit fractional divisor */
        { UART_LCR_H, 0xff },
        { UART_CR, 0xffff },
        { UART_IFLS, 0x3f },    /* two 3-bit trigger selects */
        { UART_IMSC, 0x7ff },   /* 11 interrupt sources */
    };

    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        wr(&f->u, regs[i].off, 0xffffffffu);
        assert_int_equal(rd(&f->u, regs[i].off), regs[i].mask);
        wr(&f->u, regs[i].off, 0);
        assert_int_equal(rd(&f->u, regs[i].off), 0);
        /* An arbitrary pattern keeps exactly its in-mask bits. */
        wr(&f->u, regs[i].off, 0xa5a5a5a5u);
        assert_int_equal(rd(&f->u, regs[i].off), 0xa5a5a5a5u & regs[i].mask);
    }
    /* Registers are independent of one another. */
    wr(&f->u, UART_IBRD, 0x1234);
    wr(&f->u, UART_FBRD, 0x15);
    assert_int_equal(rd(&f->u, UART_IBRD), 0x1234);
    assert_int_equal(rd(&f->u, UART_FBRD), 0x15);
    assert_int_equal(f->log.n, 0);
}

static void test_misaligned_write_ignored(void **state)
{
    struct fixture *f = *state;

    /* Registers are written whole from their base; a store into the middle is dropped. */
    vuart_write(&f->u, UART_IBRD + 1, 1, 0x12);
    assert_int_equal(rd(&f->u, UART_IBRD), 0);
    vuart_write(&f->u, UART_DR + 2, 1, 'z');
    assert_int_equal(f->log.n, 0);
}

static void test_id_registers(void **state)
{
    struct fixture *f = *state;
    /* PeriphID0-3: part 0x011, designer 0x41, revision r1p5; PCellID0-3: 0xB105F00D. */
    static const uint8_t want[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(rd(&f->u, 0xfe0 + 4 * i), want[i]);
    /* The same values read through the byte lane a driver using readb would use. */
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(vuart_read(&f->u, 0xfe0 + 4 * i, 1), want[i]);
    /* Just outside the ID block is reserved space. */
    assert_int_equal(rd(&f->u, 0xfdc), 0);
}

static void test_ris_levels(void **state)
{
    struct fixture *f = *state;
    /* Reset IFLS 0x12: RX trigger (bits 5:3 = 2) at 1/2 of the FIFO. */
    const unsigned half = VUART_RX_FIFO / 2;
    uint32_t ris;

    /* Empty: only TX (the transmit FIFO is always below its level). */
    ris = rd(&f->u, UART_RIS);
    assert_true(ris & UART_INT_TX);
    assert_false(ris & UART_INT_RX);
    assert_false(ris & UART_INT_RT);

    /* Below the trigger: the characters wait, so receive timeout. */
    fill(&f->u, 1, 0);
    ris = rd(&f->u, UART_RIS);
    assert_true(ris & UART_INT_RT);
    assert_false(ris & UART_INT_RX);

    fill(&f->u, half - 2, 1);
    ris = rd(&f->u, UART_RIS);
    assert_true(ris & UART_INT_RT);
    assert_false(ris & UART_INT_RX);

    /* At the trigger level: RX. */
    fill(&f->u, 1, 0);
    ris = rd(&f->u, UART_RIS);
    assert_true(ris & UART_INT_RX);
    assert_true(ris & UART_INT_TX);
    assert_int_equal(vuart_ris(&f->u), ris);

    /* Draining one character drops back below the trigger. */
    (void)rd(&f->u, UART_DR);
    ris = rd(&f->u, UART_RIS);
    assert_false(ris & UART_INT_RX);
    assert_true(ris & UART_INT_RT);
}

static void test_ris_trigger_follows_ifls(void **state)
{
    struct fixture *f = *state;
    /* RXIFLSEL (IFLS[5:3]) 0..4 = 1/8, 1/4, 1/2, 3/4, 7/8 of the FIFO. */
    static const unsigned eighths[] = { 1, 2, 4, 6, 7 };

    for (unsigned sel = 0; sel < 5; sel++) {
        unsigned level = VUART_RX_FIFO * eighths[sel] / 8;

        vuart_init(&f->u, tx_capture, &f->log);
        wr(&f->u, UART_IFLS, sel << 3);
        fill(&f->u, level - 1, 0);
        assert_false(rd(&f->u, UART_RIS) & UART_INT_RX);
        fill(&f->u, 1, 0);
        assert_true(rd(&f->u, UART_RIS) & UART_INT_RX);
        assert_false(rd(&f->u, UART_RIS) & UART_INT_RT);
    }
}

static void test_mis_is_ris_and_imsc(void **state)
{
    struct fixture *f = *state;
    static const uint32_t masks[] = { 0, UART_INT_RX, UART_INT_TX, UART_INT_RT,
                                      UART_INT_RX | UART_INT_RT, 0x7ff };

    for (unsigned m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
        vuart_init(&f->u, tx_capture, &f->log);
        wr(&f->u, UART_IMSC, masks[m]);
        /* Empty, below the trigger, at it. */
        for (unsigned n = 0; n < 3; n++) {
            if (n == 1)
                fill(&f->u, 1, 0);
            if (n == 2)
                fill(&f->u, VUART_RX_FIFO / 2, 0);
            assert_int_equal(rd(&f->u, UART_MIS), rd(&f->u, UART_RIS) & masks[m]);
        }
    }
    /* Sanity: with nothing masked in there is nothing pending. */
    vuart_init(&f->u, tx_capture, &f->log);
    fill(&f->u, VUART_RX_FIFO, 0);
    assert_int_equal(rd(&f->u, UART_MIS), 0);
}

static void test_narrow_reads(void **state)
{
    struct fixture *f = *state;

    wr(&f->u, UART_IBRD, 0xbeef);
    /* Each byte lane of the 32-bit register. */
    assert_int_equal(vuart_read(&f->u, UART_IBRD, 1), 0xef);
    assert_int_equal(vuart_read(&f->u, UART_IBRD + 1, 1), 0xbe);
    assert_int_equal(vuart_read(&f->u, UART_IBRD + 2, 1), 0);
    assert_int_equal(vuart_read(&f->u, UART_IBRD + 3, 1), 0);
    /* Halfwords. */
    assert_int_equal(vuart_read(&f->u, UART_IBRD, 2), 0xbeef);
    assert_int_equal(vuart_read(&f->u, UART_IBRD + 2, 2), 0);

    /* Byte reads of CR and FR, as some polled drivers do. */
    assert_int_equal(vuart_read(&f->u, UART_CR, 1), 0x00);
    assert_int_equal(vuart_read(&f->u, UART_CR + 1, 1), 0x03);
    assert_int_equal(vuart_read(&f->u, UART_FR, 1), UART_FR_RXFE | UART_FR_TXFE);

    /* A byte read of DR pops one character like a word read. */
    fill(&f->u, 2, 'p');
    assert_int_equal(vuart_read(&f->u, UART_DR, 1), 'p');
    assert_int_equal(vuart_read(&f->u, UART_DR, 1), 'q');
    assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO);
}

static void test_unknown_offsets_read_zero(void **state)
{
    struct fixture *f = *state;
    /* Reserved gaps, ICR (write-only), test registers and the rest of the page. */
    static const uint32_t offs[] = { 0x008, 0x00c, 0x010, 0x014, 0x01c, UART_ICR,
                                     0x04c, 0x080, 0x100, 0x800, 0xf00, 0xfdc };

    /* Make every stored register non-zero so a stray alias would show. */
    wr(&f->u, UART_IBRD, 0xffff);
    wr(&f->u, UART_IMSC, 0x7ff);
    fill(&f->u, 3, 'x');
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        assert_int_equal(rd(&f->u, offs[i]), 0);
    /* Writing there changes nothing and transmits nothing. */
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        wr(&f->u, offs[i], 0xffffffffu);
    assert_int_equal(rd(&f->u, UART_IBRD), 0xffff);
    assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO - 3);
    assert_int_equal(f->log.n, 0);
}

static void test_rx_push_until_full(void **state)
{
    struct fixture *f = *state;

    for (unsigned i = 0; i < VUART_RX_FIFO; i++) {
        assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO - i);
        assert_false(vuart_rx_full(&f->u));
        assert_true(vuart_rx_push(&f->u, (uint8_t)i));
    }
    assert_int_equal(vuart_rx_space(&f->u), 0);
    assert_true(vuart_rx_full(&f->u));
    /* Full: refused, and the refused byte is not stored over an old one. */
    assert_false(vuart_rx_push(&f->u, 0xee));
    assert_int_equal(vuart_rx_space(&f->u), 0);
    for (unsigned i = 0; i < VUART_RX_FIFO; i++)
        assert_int_equal(rd(&f->u, UART_DR), (uint8_t)i);
    assert_int_equal(rd(&f->u, UART_DR), 0);
    assert_int_equal(vuart_rx_space(&f->u), VUART_RX_FIFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_values, setup),
        cmocka_unit_test_setup(test_fr_empty, setup),
        cmocka_unit_test_setup(test_fr_not_empty, setup),
        cmocka_unit_test_setup(test_fr_full, setup),
        cmocka_unit_test_setup(test_dr_read_order, setup),
        cmocka_unit_test_setup(test_dr_ring_wraps, setup),
        cmocka_unit_test_setup(test_dr_write_transmits, setup),
        cmocka_unit_test_setup(test_dr_write_while_disabled, setup),
        cmocka_unit_test_setup(test_ro_registers_ignore_writes, setup),
        cmocka_unit_test_setup(test_writable_masks, setup),
        cmocka_unit_test_setup(test_misaligned_write_ignored, setup),
        cmocka_unit_test_setup(test_id_registers, setup),
        cmocka_unit_test_setup(test_ris_levels, setup),
        cmocka_unit_test_setup(test_ris_trigger_follows_ifls, setup),
        cmocka_unit_test_setup(test_mis_is_ris_and_imsc, setup),
        cmocka_unit_test_setup(test_narrow_reads, setup),
        cmocka_unit_test_setup(test_unknown_offsets_read_zero, setup),
        cmocka_unit_test_setup(test_rx_push_until_full, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
