/* lkvm's version string ('lkvm version', the metrics endpoint's lkvm_build_info). */
#ifndef KVM_VERSION_H
#define KVM_VERSION_H

#ifndef LKVM_VERSION
#define LKVM_VERSION "0.1"
#endif

#endif
