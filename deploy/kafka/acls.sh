#!/usr/bin/env bash
# Kafka ACLs for `hub bridge kafka`: the bridge writes every opted-in organization's topic; each organization's
# principal reads its own topic (and uses its own consumer groups) and nothing else.
#
#   KAFKA_BOOTSTRAP=broker:9092 ADMIN_CONFIG=admin.properties ./acls.sh bridge aurora=qualink.aurora borealis=qualink.borealis
#
# The first argument is the bridge's principal (User:<name>); each further one is <principal>=<topic>, the topic
# the organization opted in with (`hub bridge kafka list`). Needs Apache Kafka's kafka-acls.sh on the PATH and a
# cluster with an authorizer (authorizer.class.name / KRaft's StandardAuthorizer) and allow.everyone.if.no.acl.found
# left false. Untested here: the test broker (Tansu) has no ACLs.
set -euo pipefail

bootstrap=${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP=host:port}
admin=(--bootstrap-server "$bootstrap")
[ -n "${ADMIN_CONFIG:-}" ] && admin+=(--command-config "$ADMIN_CONFIG")
bridge=${1:?usage: acls.sh BRIDGE_PRINCIPAL PRINCIPAL=TOPIC...}
shift

# The bridge: an idempotent producer (IdempotentWrite on the cluster), creating and writing the organizations' topics.
kafka-acls.sh "${admin[@]}" --add --allow-principal "User:$bridge" --operation IdempotentWrite --cluster
for pair in "$@"; do
    principal=${pair%%=*}
    topic=${pair#*=}
    kafka-acls.sh "${admin[@]}" --add --allow-principal "User:$bridge" \
        --operation Write --operation Describe --operation Create --topic "$topic"
    # The organization: read its topic only, with consumer groups named after it (prefix "<principal>.").
    kafka-acls.sh "${admin[@]}" --add --allow-principal "User:$principal" \
        --operation Read --operation Describe --topic "$topic"
    kafka-acls.sh "${admin[@]}" --add --allow-principal "User:$principal" \
        --operation Read --group "$principal." --resource-pattern-type prefixed
done
