/*
 * libFuzzer target for the RT shell's calculator (rtkernel/calc.c): an expression comes
 * from a user or from the AI partition, so any bytes must give a value or an error,
 * never a crash, an overflow (UBSan) or a read past the string (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[96], out[48];
    int64_t v;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (calc_eval(text, &v, err, sizeof(err)) == 0)
        calc_format(v, out, sizeof(out));
    free(text);
    return 0;
}
