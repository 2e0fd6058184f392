// SPDX-License-Identifier: GPL-2.0
/*
 * kclusterip: Kubernetes-style Service virtual IPs for a node.
 *
 * Module parameters, per-netns state and module lifetime.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_nat_masquerade.h>

#include "kclusterip.h"
#include "version.h"

unsigned int kcip_max_services __read_mostly = 262144;
module_param_named(max_services, kcip_max_services, uint, 0644);
MODULE_PARM_DESC(max_services, "Most Services in one network namespace");

unsigned int kcip_max_backends __read_mostly = 1048576;
module_param_named(max_backends, kcip_max_backends, uint, 0644);
MODULE_PARM_DESC(max_backends,
		 "Most backends, over all Services, in one network namespace");

module_param_named(maglev_min_size, kcip_maglev_min_size, uint, 0644);
MODULE_PARM_DESC(maglev_min_size,
		 "Smallest Maglev table (default 16381); a table is the first of 1021, 4093, 16381, 65521, 262139, 1048573 at least max(this, 100 x backends); the same on every node");

module_param_named(max_affinity, kcip_max_affinity, uint, 0644);
MODULE_PARM_DESC(max_affinity,
		 "Most session-affinity entries in one network namespace");

bool kcip_userns __read_mostly;
module_param_named(userns, kcip_userns, bool, 0444);
MODULE_PARM_DESC(userns,
		 "Let root of a user namespace change the netns it owns");

static unsigned int kcip_net_id __read_mostly;

struct kcip_net *kcip_pernet(const struct net *net)
{
	return net_generic(net, kcip_net_id);
}

static int __net_init kcip_net_init(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_table *tbl;
	int err;

	mutex_init(&kn->lock);
	INIT_LIST_HEAD(&kn->stages);
	kn->generation = 1;
	tbl = kcip_table_alloc();
	if (!tbl)
		return -ENOMEM;
	RCU_INIT_POINTER(kn->tbl, tbl);
	err = kcip_aff_init(kn);
	if (err)
		kcip_table_free(tbl);
	return err;
}

/* Detach from the packet path first; packets may still be in flight. */
static void __net_exit kcip_net_pre_exit(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);

	mutex_lock(&kn->lock);
	if (kn->hooks_on) {
		kcip_hooks_unregister(net);
		kn->hooks_on = false;
	}
	mutex_unlock(&kn->lock);
}

/* A grace period has passed since pre_exit: nothing reads the table. */
static void __net_exit kcip_net_exit(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_service *svc, *tmp;
	struct kcip_table *tbl;

	kcip_aff_exit(kn);
	mutex_lock(&kn->lock);
	kcip_stages_free(kn);
	tbl = kcip_tbl(kn);
	list_for_each_entry_safe(svc, tmp, &tbl->list, list) {
		list_del(&svc->list);
		kcip_svc_free(svc);
	}
	kcip_table_free(tbl);
	RCU_INIT_POINTER(kn->tbl, NULL);
	mutex_unlock(&kn->lock);
	mutex_destroy(&kn->lock);
}

static struct pernet_operations kcip_net_ops = {
	.init = kcip_net_init,
	.pre_exit = kcip_net_pre_exit,
	.exit = kcip_net_exit,
	.id = &kcip_net_id,
	.size = sizeof(struct kcip_net),
};

static int __init kcip_init(void)
{
	int err;

	/* clean masqueraded flows up when their device or address goes */
	err = nf_nat_masquerade_inet_register_notifiers();
	if (err)
		return err;

	err = register_pernet_subsys(&kcip_net_ops);
	if (err)
		goto err_masq;

	err = kcip_restore_init();
	if (err)
		goto err_pernet;

	err = kcip_genl_init();
	if (err)
		goto err_restore;

	pr_info("version %s loaded\n", KCIP_VERSION);
	return 0;

err_restore:
	kcip_restore_exit();
err_pernet:
	unregister_pernet_subsys(&kcip_net_ops);
err_masq:
	nf_nat_masquerade_inet_unregister_notifiers();
	return err;
}

static void __exit kcip_exit(void)
{
	/* no new requests, then no netns state, then no pending frees */
	kcip_genl_exit();
	kcip_restore_exit();
	unregister_pernet_subsys(&kcip_net_ops);
	nf_nat_masquerade_inet_unregister_notifiers();
	rcu_barrier();
}

module_init(kcip_init);
module_exit(kcip_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kclusterip developers");
MODULE_DESCRIPTION("Kubernetes-style Service virtual IPs through nf_nat");
MODULE_VERSION(KCIP_VERSION);
MODULE_ALIAS_GENL_FAMILY(KCIP_GENL_NAME);
