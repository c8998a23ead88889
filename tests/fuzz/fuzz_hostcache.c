/*
 * Fuzz harness for the Skype host-cache XML reader (format forced to XML): arbitrary bytes go
 * through sn_input_read_buf twice, lenient then strict (fuzz_input.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_input_read(data, size, SN_INPUT_XML);
}
