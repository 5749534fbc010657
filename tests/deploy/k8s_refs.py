#!/usr/bin/env python3
"""Checks what schema validation cannot see in rendered manifests (`kubectl kustomize` output): that names
refer to something. kubernetes-validate accepts a probe on a named port that no container declares, a
Service whose targetPort or selector matches no pod, a PodDisruptionBudget that covers nothing.

    k8s_refs.py RENDERED.yaml...     # one line per problem, exit 1 if any
    k8s_refs.py --self-test          # each check fires on a manifest made to break it

Checks, for every pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod):
- each probe's (liveness, readiness, startup; httpGet, tcpSocket, grpc) named port is a port of that container;
- each Service's selector matches a pod template of its namespace, and each named targetPort is a port of a
  container of every template it selects;
- each PodDisruptionBudget's selector matches a pod template;
- each StatefulSet's serviceName is a headless Service of its namespace;
- each ConfigMap named by envFrom, env valueFrom or a volume exists, unless marked optional;
- each PersistentVolumeClaim volume names a claim of the output or a claim template of its StatefulSet.
Needs PyYAML (the kubernetes-validate venv has it).
"""
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_templates(docs):
    """(doc, template metadata, pod spec) of every pod the documents make."""
    for d in docs:
        kind = d.get("kind")
        spec = d.get("spec") or {}
        if kind in WORKLOADS:
            t = spec.get("template") or {}
            yield d, t.get("metadata") or {}, t.get("spec") or {}
        elif kind == "CronJob":
            t = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            yield d, t.get("metadata") or {}, t.get("spec") or {}
        elif kind == "Pod":
            yield d, d.get("metadata") or {}, spec


def name_of(d):
    m = d.get("metadata") or {}
    return f"{d.get('kind')}/{m.get('name')}"


def ns_of(d):
    return (d.get("metadata") or {}).get("namespace") or "default"


def selects(selector, labels):
    """selector: a Service's map or a LabelSelector (matchLabels, matchExpressions)."""
    if not selector:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        for k, v in (selector.get("matchLabels") or {}).items():
            if labels.get(k) != v:
                return False
        for e in selector.get("matchExpressions") or []:
            k, op, values = e.get("key"), e.get("operator"), e.get("values") or []
            if op == "In" and labels.get(k) not in values:
                return False
            if op == "NotIn" and labels.get(k) in values:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True
    return all(labels.get(k) == v for k, v in selector.items())


def containers(pod):
    return (pod.get("initContainers") or []) + (pod.get("containers") or [])


def check(docs):
    problems = []
    templates = list(pod_templates(docs))
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
    configmaps = {(ns_of(d), d["metadata"]["name"]) for d in by_kind.get("ConfigMap", [])}
    claims = {(ns_of(d), d["metadata"]["name"]) for d in by_kind.get("PersistentVolumeClaim", [])}

    for d, meta, pod in templates:
        where = name_of(d)
        for c in containers(pod):
            ports = {p.get("name") for p in c.get("ports") or [] if p.get("name")}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                for handler in ("httpGet", "tcpSocket", "grpc"):
                    port = ((c.get(probe) or {}).get(handler) or {}).get("port")
                    if isinstance(port, str) and port not in ports:
                        problems.append(f"{where}: container {c.get('name')}: {probe}.{handler}.port {port!r} "
                                        f"is not one of its named ports {sorted(ports)}")
            for ef in c.get("envFrom") or []:
                ref = ef.get("configMapRef")
                if ref and not ref.get("optional") and (ns_of(d), ref.get("name")) not in configmaps:
                    problems.append(f"{where}: container {c.get('name')}: envFrom ConfigMap {ref.get('name')!r} "
                                    "is not in the output")
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and not ref.get("optional") and (ns_of(d), ref.get("name")) not in configmaps:
                    problems.append(f"{where}: env {e.get('name')}: ConfigMap {ref.get('name')!r} is not in the output")
        templates_claims = {t["metadata"]["name"] for t in (d.get("spec") or {}).get("volumeClaimTemplates") or []}
        volumes = {v.get("name") for v in pod.get("volumes") or []}
        for v in pod.get("volumes") or []:
            cm = v.get("configMap")
            if cm and not cm.get("optional") and (ns_of(d), cm.get("name")) not in configmaps:
                problems.append(f"{where}: volume {v.get('name')}: ConfigMap {cm.get('name')!r} is not in the output")
            pvc = v.get("persistentVolumeClaim")
            if pvc and (ns_of(d), pvc.get("claimName")) not in claims:
                problems.append(f"{where}: volume {v.get('name')}: claim {pvc.get('claimName')!r} is not in the output")
        for c in containers(pod):
            for m in c.get("volumeMounts") or []:
                if m.get("name") not in volumes and m.get("name") not in templates_claims:
                    problems.append(f"{where}: container {c.get('name')}: volumeMount {m.get('name')!r} names no "
                                    "volume and no claim template")

    for svc in by_kind.get("Service", []):
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if not selector:
            continue  # a Service without selector has its endpoints managed by hand
        chosen = [(d, pod) for d, meta, pod in templates
                  if ns_of(d) == ns_of(svc) and selects(selector, meta.get("labels") or {})]
        if not chosen:
            problems.append(f"{name_of(svc)}: selector {selector} matches no pod template")
        for p in spec.get("ports") or []:
            target = p.get("targetPort")
            if not isinstance(target, str):
                continue
            for d, pod in chosen:
                named = {q.get("name") for c in pod.get("containers") or [] for q in c.get("ports") or []}
                if target not in named:
                    problems.append(f"{name_of(svc)}: targetPort {target!r} is not a named port of {name_of(d)}")

    for pdb in by_kind.get("PodDisruptionBudget", []):
        selector = (pdb.get("spec") or {}).get("selector") or {}
        if not any(ns_of(d) == ns_of(pdb) and selects(selector, meta.get("labels") or {})
                   for d, meta, pod in templates):
            problems.append(f"{name_of(pdb)}: selector matches no pod template")

    headless = {(ns_of(s), s["metadata"]["name"]) for s in by_kind.get("Service", [])
                if (s.get("spec") or {}).get("clusterIP") == "None"}
    for sts in by_kind.get("StatefulSet", []):
        service = (sts.get("spec") or {}).get("serviceName")
        if service and (ns_of(sts), service) not in headless:
            problems.append(f"{name_of(sts)}: serviceName {service!r} is not a headless Service of its namespace")
    return problems


SELF_TEST = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec:
  serviceName: nope
  selector: {matchLabels: {app: s}}
  template:
    metadata: {labels: {app: s}}
    spec:
      containers:
        - name: c
          ports: [{name: http, containerPort: 80}]
          readinessProbe: {httpGet: {path: /, port: htpp}}
          startupProbe: {tcpSocket: {port: http}}
          envFrom: [{configMapRef: {name: missing}}]
          volumeMounts: [{name: state, mountPath: /s}, {name: gone, mountPath: /g}]
      volumes: [{name: v, persistentVolumeClaim: {claimName: absent}}]
  volumeClaimTemplates: [{metadata: {name: state}}]
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  selector: {app: s}
  ports: [{port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  selector: {app: other}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: other}}
"""
SELF_TEST_WANT = ["readinessProbe.httpGet.port 'htpp'", "envFrom ConfigMap 'missing'", "volumeMount 'gone'",
                  "claim 'absent'", "targetPort 'web'", "Service/b: selector", "PodDisruptionBudget/p: selector",
                  "serviceName 'nope'"]


def main(argv):
    if argv[1:] == ["--self-test"]:
        problems = check([d for d in yaml.safe_load_all(SELF_TEST) if d])
        missed = [w for w in SELF_TEST_WANT if not any(w in p for p in problems)]
        if missed or len(problems) != len(SELF_TEST_WANT):
            print("self-test: wanted one problem for each of", SELF_TEST_WANT, "got", problems, file=sys.stderr)
            return 1
        print(f"k8s_refs: self-test passed ({len(problems)} planted problems found)")
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for path in argv[1:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        problems = check(docs)
        for p in problems:
            print(f"{path}: {p}", file=sys.stderr)
        bad += len(problems)
        if not problems:
            print(f"k8s_refs: {path}: {len(docs)} objects, every reference resolves")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
