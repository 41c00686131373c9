/* PLACEHOLDER: being written. */
#include "cli/cli.h"
int apex_cmd_data(int argc, char **argv) { (void)argc; (void)argv; return 1; }
