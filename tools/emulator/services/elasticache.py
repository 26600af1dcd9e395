"""ElastiCache in the emulator: fixes to moto 5.2 and, in realistic mode, the cluster lifecycle.

Fixes (always on):
- DescribeCacheClusters: CacheNodes (with their endpoints), SecurityGroups, CacheSecurityGroups;
- DeleteCacheCluster completes (moto leaves the cluster "deleting" forever);
- DeleteCacheSubnetGroup (missing in moto), refused while a cluster uses the group.

Realistic mode: a new cluster is ``creating`` ~8 min with no node endpoint, then ``available``;
a deleted one is ``deleting`` ~5 min, then gone (ElastiCache API reference, CacheCluster:
"CacheClusterStatus: available, creating, deleted, deleting, ..."; timings: terraform#8275,
395 s for a single-node cluster; TF delete timeout 45 m).
"""

from __future__ import annotations

import realism

CREATE_SECONDS = 480
DELETE_SECONDS = 300


def install() -> None:
    from moto.core.responses import EmptyResult
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
    from moto.elasticache.models import CacheCluster, ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    # DescribeCacheClusters: CacheNodes (with their endpoints), SecurityGroups and
    # CacheSecurityGroups, as the ElastiCache API reference's CacheCluster lists them;
    # moto 5.2 leaves all three out. No endpoint while the node is being created.
    def cache_nodes(self):
        address = f"{self.cache_cluster_id}.emu.0001.cache.amazonaws.com"
        creating = self.cache_cluster_status == "creating"
        return [{
            "CacheNodeId": f"{index + 1:04d}",
            "CacheNodeStatus": self.cache_cluster_status,
            "CacheNodeCreateTime": self.cache_cluster_create_time,
            **({} if creating else {"Endpoint": {"Address": address, "Port": int(self.port)}}),
            "ParameterGroupStatus": "in-sync",
            "CustomerAvailabilityZone": self.preferred_availability_zone or "",
        } for index in range(int(self.num_cache_nodes or 1))]

    CacheCluster.cache_nodes = property(cache_nodes)
    CacheCluster.security_groups = property(
        lambda self: [{"SecurityGroupId": sg, "Status": "active"} for sg in self.security_group_ids]
    )
    CacheCluster.cache_security_groups = property(
        lambda self: [{"CacheSecurityGroupName": n, "Status": "active"} for n in self.cache_security_group_names]
    )

    original_create = ElastiCacheBackend.create_cache_cluster
    original_delete_cc = ElastiCacheBackend.delete_cache_cluster

    def create_cache_cluster(self, *args, **kwargs):
        cluster = original_create(self, *args, **kwargs)
        if realism.SETTINGS.realistic and not kwargs.get("replication_group_id"):  # a member follows its group
            cluster.cache_cluster_status = "creating"
            realism.later(CREATE_SECONDS, lambda: cluster.cache_cluster_status == "creating"
                          and setattr(cluster, "cache_cluster_status", "available"))
        return cluster

    # DeleteCacheCluster answers with the cluster in "deleting"; once deleted, describing it
    # fails with CacheClusterNotFound. moto 5.2 keeps it "deleting" forever.
    def delete_cache_cluster(self, cache_cluster_id):
        cluster = self.cache_clusters.get(cache_cluster_id)
        if cluster is not None and cluster.cache_cluster_status != "available" and realism.SETTINGS.realistic:
            raise ElastiCacheException(
                "InvalidCacheClusterState",
                f"Cache cluster {cache_cluster_id} is not in a valid state to be deleted "
                f"({cluster.cache_cluster_status}).")
        cluster = original_delete_cc(self, cache_cluster_id)
        realism.later(DELETE_SECONDS, lambda: self.cache_clusters.pop(cache_cluster_id, None))
        return cluster

    ElastiCacheBackend.create_cache_cluster = create_cache_cluster
    ElastiCacheBackend.delete_cache_cluster = delete_cache_cluster

    # DeleteCacheSubnetGroup (not in moto 5.2): CacheSubnetGroupNotFoundFault when missing,
    # CacheSubnetGroupInUse while a cluster uses it (ElastiCache API reference).
    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

        def __init__(self, name):
            super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")

    def backend_delete_cache_subnet_group(self, name):
        if name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(name)
        if any(c.cache_subnet_group_name == name for c in self.cache_clusters.values()):
            raise CacheSubnetGroupInUse(name)
        del self.cache_subnet_groups[name]

    def response_delete_cache_subnet_group(self):
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    ElastiCacheBackend.delete_cache_subnet_group = backend_delete_cache_subnet_group
    ElastiCacheResponse.delete_cache_subnet_group = response_delete_cache_subnet_group

    from . import elasticache_groups

    elasticache_groups.install()
