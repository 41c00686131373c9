/* PLACEHOLDER: being written. */
#include "cli/cli.h"
int apex_cmd_indicator(int argc, char **argv) { (void)argc; (void)argv; return 1; }
