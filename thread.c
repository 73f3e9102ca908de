/* lkvm_thread_start(): a thread with lkvm's stack size and all signals blocked, for workers and the metrics endpoint. */
#include <signal.h>

#include "kvm/thread.h"
#include "kvm/util.h"

int lkvm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int r;

	sigfillset(&all);
	/* a fault still reaches the crash report (sandbox.c) rather than killing the process without a word */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LKVM_THREAD_STACK);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -r;
}
