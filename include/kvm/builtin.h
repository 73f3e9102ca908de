/* Subcommand entry points and the 'lkvm run' argument parser (exposed for unit tests). */
#ifndef KVM_BUILTIN_H
#define KVM_BUILTIN_H

#include <stdio.h>

#include "kvm/util.h"

struct kvm_config;

int cmd_run(int argc, const char **argv);
int cmd_list(int argc, const char **argv);
int cmd_stat(int argc, const char **argv);
int cmd_debug(int argc, const char **argv);
int cmd_stop(int argc, const char **argv);
int cmd_save(int argc, const char **argv);
int cmd_pause(int argc, const char **argv);
int cmd_resume(int argc, const char **argv);
int run_parse_args(int argc, const char **argv, struct kvm_config *cfg, bool *help, char *err, size_t errlen);
void run_usage(FILE *f);

#endif
