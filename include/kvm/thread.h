/* Starting lkvm's own threads (device workers, the metrics endpoint) the one way they all need. */
#ifndef KVM_THREAD_H
#define KVM_THREAD_H

#include <pthread.h>

/*
 * Start fn(arg) on a thread with LKVM_THREAD_STACK of stack and every signal blocked (signals belong to the main
 * thread's signalfd). 0 or -errno.
 */
int lkvm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
