using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;

namespace CeleryKube.Deploy.Tests;

/// <summary>Rendered kustomize output checked against the code, Skaffold and the hardening rules.</summary>
public sealed class ManifestTests
{
    /// <summary>Images we run but do not build; each pinned to a release line, never :latest.</summary>
    private static readonly string[] ThirdPartyImages = ["rabbitmq"];

    public static TheoryData<string> All => Renders.All;

    [Theory]
    [MemberData(nameof(All))]
    public void Every_image_is_a_skaffold_artifact_or_a_pinned_third_party_image(string render)
    {
        var r = Renders.Get(render);
        var used = new HashSet<string>();
        foreach (var workload in r.Workloads)
        {
            foreach (var container in workload.Containers)
            {
                var image = Yaml.Str(container, "image") ?? "";
                if (Skaffold.ArtifactOf(image) is { } artifact)
                {
                    used.Add(artifact.Image);
                    continue;
                }
                Assert.True(ThirdPartyImages.Contains(Skaffold.ImageName(image)),
                    $"{render}: {workload} runs {image}, which is neither a Skaffold artifact ({string.Join(", ", Skaffold.Artifacts)}) nor a known third-party image");
                Assert.True(image.Contains(':') && !image.EndsWith(":latest", StringComparison.Ordinal), $"{render}: {workload}: pin {image} to a version");
            }
        }
        Assert.Equal(Skaffold.Artifacts.Select(a => a.Image).Order(), used.Order());
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Every_environment_variable_is_a_setting_the_service_binds_with_a_valid_value(string render)
    {
        var r = Renders.Get(render);
        var problems = new List<string>();
        foreach (var workload in r.Workloads)
        {
            foreach (var container in workload.Containers)
            {
                if (Skaffold.ArtifactOf(Yaml.Str(container, "image") ?? "") is not { } artifact) continue;
                if (ServiceContract.TryFor(artifact, problems) is not { } contract) continue;
                var values = new Dictionary<Type, object>();
                var envList = Yaml.Maps(container, "env").ToList();
                var helpers = CompositionHelpers(envList);
                foreach (var env in envList)
                {
                    var name = Yaml.Str(env, "name") ?? "";
                    if (helpers.ContainsKey(name)) continue;
                    if (!contract.Settings.TryGetValue(name, out var setting))
                    {
                        problems.Add($"{workload} ({artifact.Image}): {name} is not bound by {contract.AssemblyName}; it binds {string.Join(", ", contract.Settings.Keys.Order())}");
                        continue;
                    }
                    var text = ValueOf(r, env);
                    if (text is null) continue;
                    foreach (var (helper, sample) in helpers) text = text.Replace($"$({helper})", sample, StringComparison.Ordinal);
                    try
                    {
                        var value = TypeDescriptor.GetConverter(setting.Property.PropertyType).ConvertFromInvariantString(text);
                        if (!values.TryGetValue(setting.OptionsType, out var options))
                        {
                            values[setting.OptionsType] = options = Activator.CreateInstance(setting.OptionsType)!;
                        }
                        setting.Property.SetValue(options, value);
                    }
                    catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException)
                    {
                        problems.Add($"{workload}: {name}={text} is not a valid {setting.Property.PropertyType.Name}: {ex.Message}");
                    }
                }
                // The same DataAnnotations the service validates at start-up.
                foreach (var (type, options) in values)
                {
                    var results = new List<ValidationResult>();
                    if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
                    {
                        problems.AddRange(results.Select(v => $"{workload}: {type.Name}: {v.ErrorMessage} ({string.Join(", ", v.MemberNames)})"));
                    }
                }
            }
        }
        Assert.True(problems.Count == 0, $"{render}:\n" + string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Container_ports_are_the_ports_the_service_listens_on(string render)
    {
        var r = Renders.Get(render);
        var problems = new List<string>();
        foreach (var workload in r.Workloads)
        {
            foreach (var container in workload.Containers)
            {
                if (Skaffold.ArtifactOf(Yaml.Str(container, "image") ?? "") is not { } artifact) continue;
                if (ServiceContract.TryFor(artifact, problems) is not { } contract) continue;
                var env = Yaml.Maps(container, "env")
                    .Where(e => Yaml.Str(e, "value") is not null)
                    .ToDictionary(e => Yaml.Str(e, "name")!, e => Yaml.Str(e, "value")!);
                var declared = new SortedSet<int>(Yaml.Maps(container, "ports").Select(p => int.Parse(Yaml.Str(p, "containerPort")!, CultureInfo.InvariantCulture)));
                var listening = contract.ListenPorts(env);
                if (!listening.SetEquals(declared))
                {
                    problems.Add($"{workload} declares containerPorts {string.Join(",", declared)} but {artifact.Image} listens on {string.Join(",", listening)}");
                }
            }
        }
        Assert.True(problems.Count == 0, $"{render}:\n" + string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Service_target_ports_probes_and_network_policy_ports_resolve_to_container_ports(string render)
    {
        var r = Renders.Get(render);
        foreach (var service in r.OfKind("Service"))
        {
            var selector = Yaml.Map(service.Raw, "spec", "selector");
            Assert.NotNull(selector);
            var pods = PodsSelectedBy(r, selector!).ToList();
            Assert.True(pods.Count > 0, $"{render}: {service} selects no workload");
            foreach (var port in Yaml.Maps(service.Raw, "spec", "ports"))
            {
                var target = Yaml.Str(port, "targetPort") ?? Yaml.Str(port, "port")!;
                foreach (var pod in pods)
                {
                    Assert.True(ResolvesToContainerPort(pod, target), $"{render}: {service} targetPort {target} is not a containerPort of {pod}");
                }
            }
        }
        foreach (var workload in r.Workloads)
        {
            foreach (var container in workload.Containers)
            {
                foreach (var probeKind in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                {
                    var probe = Yaml.Map(container, probeKind);
                    if (probe is null) continue;
                    var port = Yaml.Str(probe, "grpc", "port") ?? Yaml.Str(probe, "httpGet", "port") ?? Yaml.Str(probe, "tcpSocket", "port");
                    if (port is null)
                    {
                        Assert.NotNull(Yaml.At(probe, "exec"));
                        continue;
                    }
                    Assert.True(ContainerPorts(container).Any(p => p.Name == port || p.Number == port),
                        $"{render}: {workload} {probeKind} port {port} is not a containerPort");
                }
            }
        }
        foreach (var policy in r.OfKind("NetworkPolicy"))
        {
            var labels = Yaml.Map(policy.Raw, "spec", "podSelector", "matchLabels") ?? [];
            var selected = PodsSelectedBy(r, labels).ToList();
            // Pods an operator runs (the RabbitMQ cluster) carry the port names the operator gives them.
            var operated = OperatorPodsSelectedBy(r, labels).ToList();
            foreach (var rule in Yaml.Maps(policy.Raw, "spec", "ingress"))
            {
                foreach (var port in Yaml.Maps(rule, "ports"))
                {
                    var name = Yaml.Str(port, "port")!;
                    Assert.True(selected.Count + operated.Count > 0 && selected.All(p => ResolvesToContainerPort(p, name)) && operated.All(p => p.PortNames.Contains(name)),
                        $"{render}: {policy} admits port {name}, which is not a containerPort of every pod it selects");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Every_container_has_resources_probes_and_a_hardened_security_context(string render)
    {
        var r = Renders.Get(render);
        var accounts = new HashSet<string>();
        foreach (var workload in r.Workloads)
        {
            var pod = workload.PodSpec!;
            var account = Yaml.Str(pod, "serviceAccountName");
            Assert.False(string.IsNullOrEmpty(account) || account == "default", $"{render}: {workload} needs its own ServiceAccount");
            Assert.True(accounts.Add(account!), $"{render}: {workload} shares ServiceAccount {account}");
            Assert.NotNull(r.Find("ServiceAccount", account!));
            Assert.Equal("false", Yaml.Str(pod, "automountServiceAccountToken"));
            Assert.Equal("RuntimeDefault", Yaml.Str(pod, "securityContext", "seccompProfile", "type"));

            foreach (var container in workload.Containers)
            {
                var where = $"{render}: {workload} container {Yaml.Str(container, "name")}";
                foreach (var kind in new[] { "requests", "limits" })
                {
                    foreach (var resource in new[] { "cpu", "memory" })
                    {
                        Assert.True(Yaml.Str(container, "resources", kind, resource) is not null, $"{where}: no resources.{kind}.{resource}");
                    }
                }
                Assert.True(Yaml.Map(container, "readinessProbe") is not null, $"{where}: no readinessProbe");
                Assert.True(Yaml.Map(container, "livenessProbe") is not null, $"{where}: no livenessProbe");

                var image = Yaml.Str(container, "image") ?? "";
                if (Skaffold.ArtifactOf(image) is { } artifact)
                {
                    // HTTP probes for the web frontend, native gRPC health probes for the gRPC services.
                    var probeType = artifact.Image.EndsWith("/frontend", StringComparison.Ordinal) ? "httpGet" : "grpc";
                    Assert.True(Yaml.At(container, "readinessProbe", probeType) is not null, $"{where}: readinessProbe should be {probeType}");
                    Assert.True(Yaml.At(container, "livenessProbe", probeType) is not null, $"{where}: livenessProbe should be {probeType}");
                    // uid 1000, as in the Dockerfiles.
                    Assert.Equal("1000", Yaml.Str(container, "securityContext", "runAsUser") ?? Yaml.Str(pod, "securityContext", "runAsUser"));
                }

                var security = Yaml.Map(container, "securityContext");
                Assert.True(security is not null, $"{where}: no securityContext");
                Assert.Equal("true", Yaml.Str(security, "runAsNonRoot") ?? Yaml.Str(pod, "securityContext", "runAsNonRoot"));
                Assert.Equal("false", Yaml.Str(security, "allowPrivilegeEscalation"));
                Assert.Equal("true", Yaml.Str(security, "readOnlyRootFilesystem"));
                Assert.Contains("ALL", Yaml.Seq(security, "capabilities", "drop").Select(d => d?.ToString()));
                Assert.True(Yaml.Str(security, "privileged") is null or "false", $"{where}: privileged");

                // A read-only root needs a writable /tmp, and it must be an emptyDir.
                var tmp = Yaml.Maps(container, "volumeMounts").FirstOrDefault(m => Yaml.Str(m, "mountPath") == "/tmp");
                Assert.True(tmp is not null, $"{where}: no /tmp mount");
                var volume = Yaml.Maps(pod, "volumes").FirstOrDefault(v => Yaml.Str(v, "name") == Yaml.Str(tmp, "name"));
                Assert.True(volume is not null && Yaml.At(volume, "emptyDir") is not null, $"{where}: /tmp is not an emptyDir");
            }
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Stateful_parts_keep_their_data_and_workers_outlive_their_time_limit(string render)
    {
        var r = Renders.Get(render);

        if (r.RabbitmqCluster is { } operated)
        {
            // Three nodes so quorum queues survive losing one; each keeps its data on a volume.
            Assert.Null(r.Find("StatefulSet", "rabbitmq"));
            Assert.Equal("3", Yaml.Str(operated.Raw, "spec", "replicas"));
            Assert.NotNull(Yaml.Str(operated.Raw, "spec", "persistence", "storage"));
        }
        else
        {
            var broker = r.Find("StatefulSet", "rabbitmq");
            Assert.NotNull(broker);
            var claim = Yaml.Maps(broker!.Raw, "spec", "volumeClaimTemplates").Single();
            var brokerMount = Yaml.Maps(broker.Containers.Single(), "volumeMounts").Single(m => Yaml.Str(m, "mountPath") == "/var/lib/rabbitmq");
            Assert.Equal(Yaml.Str(claim, "metadata", "name"), Yaml.Str(brokerMount, "name"));
        }

        var taskService = r.Find("Deployment", "task-service");
        Assert.NotNull(taskService);
        var container = taskService!.Containers.Single();
        var database = Yaml.Maps(container, "env").Single(e => Yaml.Str(e, "name") == "ConnectionStrings__Tasks");
        if (r.PostgresCluster is { } postgres)
        {
            // Stateless replicas on a shared database: rolled one at a time, never all down.
            Assert.True(int.Parse(Yaml.Str(taskService.Raw, "spec", "replicas")!, CultureInfo.InvariantCulture) >= 2, $"{render}: task-service should run several replicas");
            Assert.Equal("RollingUpdate", Yaml.Str(taskService.Raw, "spec", "strategy", "type"));
            Assert.Equal("0", Yaml.Str(taskService.Raw, "spec", "strategy", "rollingUpdate", "maxUnavailable"));
            var budget = Assert.Single(r.OfKind("PodDisruptionBudget"), b => Matches(taskService, Yaml.Map(b.Raw, "spec", "selector", "matchLabels") ?? []));
            Assert.Equal("1", Yaml.Str(budget.Raw, "spec", "maxUnavailable"));
            Assert.DoesNotContain(Yaml.Maps(taskService.PodSpec, "volumes"), v => Yaml.At(v, "persistentVolumeClaim") is not null);
            Assert.Null(r.Find("PersistentVolumeClaim", "task-service-data"));
            Assert.Equal("Postgres", Yaml.Str(Yaml.Maps(container, "env").Single(e => Yaml.Str(e, "name") == "TaskStore__Provider"), "value"));
            // The connection string is assembled from the operator's Secret, password included.
            var connection = Yaml.Str(database, "value") ?? "";
            Assert.Contains("Password=$(", connection, StringComparison.Ordinal);
            foreach (var helper in System.Text.RegularExpressions.Regex.Matches(connection, @"\$\((\w+)\)").Select(m => m.Groups[1].Value))
            {
                var source = Yaml.Maps(container, "env").Single(e => Yaml.Str(e, "name") == helper);
                Assert.Equal($"{postgres.Name}-app", Yaml.Str(source, "valueFrom", "secretKeyRef", "name"));
            }
        }
        else
        {
            // One SQLite file: exactly one writer, and Recreate so the old pod has let go of it.
            Assert.DoesNotContain(Yaml.Maps(container, "env"), e => Yaml.Str(e, "name") == "TaskStore__Provider" && Yaml.Str(e, "value") != "Sqlite");
            Assert.Equal("Recreate", Yaml.Str(taskService.Raw, "spec", "strategy", "type"));
            Assert.Equal("1", Yaml.Str(taskService.Raw, "spec", "replicas"));
            var file = Yaml.Str(database, "value")!.Split('=', 2)[1].Trim();
            var dataMount = Yaml.Maps(container, "volumeMounts").Single(m => file.StartsWith(Yaml.Str(m, "mountPath")! + "/", StringComparison.Ordinal));
            var dataVolume = Yaml.Maps(taskService.PodSpec, "volumes").Single(v => Yaml.Str(v, "name") == Yaml.Str(dataMount, "name"));
            var claimName = Yaml.Str(dataVolume, "persistentVolumeClaim", "claimName");
            Assert.True(claimName is not null && r.Find("PersistentVolumeClaim", claimName) is not null, $"{render}: the SQLite file {file} is not on a PersistentVolumeClaim");
        }

        foreach (var (name, queue, concurrency) in new[] { ("worker-small", "small", (string?)null), ("worker-large", "large", "2") })
        {
            var worker = r.Find("Deployment", name);
            Assert.NotNull(worker);
            var env = Yaml.Maps(worker!.Containers.Single(), "env").ToDictionary(e => Yaml.Str(e, "name")!, e => Yaml.Str(e, "value"));
            Assert.Equal(queue, env.GetValueOrDefault("Worker__Queue"));
            if (concurrency is not null) Assert.Equal(concurrency, env.GetValueOrDefault("Worker__Concurrency"));
            var timeLimit = TimeSpan.Parse(env.GetValueOrDefault("Worker__TimeLimit") ?? throw new Xunit.Sdk.XunitException($"{name}: set Worker__TimeLimit explicitly"), CultureInfo.InvariantCulture);
            var shutdownGrace = TimeSpan.Parse(env.GetValueOrDefault("Worker__ShutdownGrace") ?? throw new Xunit.Sdk.XunitException($"{name}: set Worker__ShutdownGrace explicitly"), CultureInfo.InvariantCulture);
            var grace = TimeSpan.FromSeconds(int.Parse(Yaml.Str(worker.PodSpec, "terminationGracePeriodSeconds") ?? "30", CultureInfo.InvariantCulture));
            // A pod being scaled in or rolled must be able to finish a task that just started.
            Assert.True(grace >= timeLimit, $"{render}: {name} terminationGracePeriodSeconds {grace} < Worker__TimeLimit {timeLimit}");
            Assert.True(grace > shutdownGrace, $"{render}: {name} terminationGracePeriodSeconds {grace} <= Worker__ShutdownGrace {shutdownGrace}: no time left to requeue");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Secrets_come_from_secret_references_and_production_ships_none(string render)
    {
        var r = Renders.Get(render);
        foreach (var workload in r.Workloads)
        {
            foreach (var container in workload.Containers)
            {
                foreach (var env in Yaml.Maps(container, "env"))
                {
                    var name = Yaml.Str(env, "name")!;
                    var literal = Yaml.Str(env, "value");
                    if (IsSecretSetting(name))
                    {
                        // From a Secret, or assembled ($(NAME)) from variables that come from one.
                        Assert.True(Yaml.At(env, "valueFrom", "secretKeyRef") is not null || literal?.Contains("$(", StringComparison.Ordinal) == true,
                            $"{render}: {workload} {name} must come from a secretKeyRef");
                    }
                    // A URI with user:password, or a password, in a plain value is a secret in disguise.
                    var plain = literal is null ? null : System.Text.RegularExpressions.Regex.Replace(literal, @"\$\(\w+\)", "");
                    Assert.False(plain is not null && System.Text.RegularExpressions.Regex.IsMatch(plain, "://[^/@\\s]+:[^/@\\s]+@|Password=[^;$]"),
                        $"{render}: {workload} {name} carries credentials in a literal value");
                    foreach (var helper in System.Text.RegularExpressions.Regex.Matches(literal ?? "", @"\$\((\w+)\)").Select(m => m.Groups[1].Value))
                    {
                        if (!IsSecretSetting(helper)) continue;
                        var source = Yaml.Maps(container, "env").FirstOrDefault(e => Yaml.Str(e, "name") == helper);
                        Assert.True(source is not null && Yaml.At(source, "valueFrom", "secretKeyRef") is not null, $"{render}: {workload} {name} uses $({helper}), which must come from a secretKeyRef");
                    }
                }
            }
        }
        Assert.DoesNotContain("guest:guest", r.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("value: guest", r.Text, StringComparison.OrdinalIgnoreCase);
        if (r.IsProduction)
        {
            var secrets = r.OfKind("Secret").ToList();
            Assert.True(secrets.Count == 0, $"{render}: production must not ship Secrets from this repository: {string.Join(", ", secrets)}");
            Assert.DoesNotContain("dev-only", r.Text, StringComparison.Ordinal);
        }
        else
        {
            // The development Secret that the workloads reference exists and is self-consistent.
            var credentials = Decode(r.Find("Secret", "rabbitmq-credentials") ?? throw new Xunit.Sdk.XunitException("rabbitmq-credentials missing"));
            Assert.NotEqual("guest", credentials["username"]);
            Assert.NotEqual("guest", credentials["password"]);
            Assert.StartsWith($"amqp://{credentials["username"]}:{credentials["password"]}@rabbitmq.", credentials["uri"], StringComparison.Ordinal);
        }
        // Every secretKeyRef names a Secret that the render ships (or, in production, that the
        // README tells the operator to create).
        // An operator's generated Secret counts when the render holds its custom resource.
        foreach (var reference in SecretReferences(r))
        {
            if (r.OperatorSecrets.TryGetValue(reference.Secret, out var keys)) Assert.True(reference.Key is null || keys.Contains(reference.Key), $"{render}: the operator's {reference.Secret} has no key {reference.Key}");
            else if (r.IsProduction) Assert.Contains(reference.Secret, new[] { "rabbitmq-credentials", "result-sink", "sign-in", "celerykube-api-keys" });
            else Assert.True(r.Find("Secret", reference.Secret) is { } secret && (reference.Key is null || Decode(secret).ContainsKey(reference.Key)), $"{render}: {reference} not found");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Keda_scales_worker_large_on_the_large_queue(string render)
    {
        var r = Renders.Get(render);
        var scaledObjects = r.OfKind("ScaledObject").ToList();
        if (!r.Includes("keda"))
        {
            Assert.Empty(scaledObjects);
            return;
        }
        var scaled = Assert.Single(scaledObjects);
        var target = Yaml.Str(scaled.Raw, "spec", "scaleTargetRef", "name");
        Assert.Equal("worker-large", target);
        var workerLarge = r.Find("Deployment", "worker-large");
        Assert.NotNull(workerLarge);
        Assert.Null(Yaml.At(workerLarge!.Raw, "spec", "replicas"));
        Assert.Equal("1", Yaml.Str(scaled.Raw, "spec", "minReplicaCount"));
        Assert.True(int.Parse(Yaml.Str(scaled.Raw, "spec", "maxReplicaCount")!, CultureInfo.InvariantCulture) > 1);

        var trigger = Assert.Single(Yaml.Maps(scaled.Raw, "spec", "triggers"));
        Assert.Equal("rabbitmq", Yaml.Str(trigger, "type"));
        Assert.Equal(QueueTopology.QueueName(TaskQueue.Large), Yaml.Str(trigger, "metadata", "queueName"));
        var perReplica = Yaml.Maps(workerLarge.Containers.Single(), "env").Single(e => Yaml.Str(e, "name") == "Worker__Concurrency");
        Assert.Equal(Yaml.Str(perReplica, "value"), Yaml.Str(trigger, "metadata", "value"));

        // KEDA reads the same broker URI the workers use. With the operator's cluster the workers
        // assemble it from rabbitmq-default-user, which has no URI: KEDA then reads
        // rabbitmq-credentials/uri, made from that Secret (components/rabbitmq-cluster/README.md).
        var auth = r.Find("TriggerAuthentication", Yaml.Str(trigger, "authenticationRef", "name") ?? "");
        Assert.NotNull(auth);
        var host = Yaml.Maps(auth!.Raw, "spec", "secretTargetRef").Single(s => Yaml.Str(s, "parameter") == "host");
        var workerUri = Yaml.Maps(workerLarge.Containers.Single(), "env").Single(e => Yaml.Str(e, "name") == "RabbitMq__Uri");
        var (secret, key) = r.RabbitmqCluster is null
            ? (Yaml.Str(workerUri, "valueFrom", "secretKeyRef", "name"), Yaml.Str(workerUri, "valueFrom", "secretKeyRef", "key"))
            : ("rabbitmq-credentials", "uri");
        Assert.Equal(secret, Yaml.Str(host, "name"));
        Assert.Equal(key, Yaml.Str(host, "key"));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Network_policies_admit_only_the_intended_clients(string render)
    {
        var r = Renders.Get(render);
        if (!r.HasNetworkPolicies)
        {
            // Components may bring policies that are complete on their own (KEDA's, the database's).
            Assert.DoesNotContain(r.OfKind("NetworkPolicy"), p => p.Name is not ("rabbitmq-from-keda" or "celerykube-db"));
            return;
        }
        // Which pods (by name label) may reach a given pod's port, over all policies.
        HashSet<string> Clients(string server, string port)
        {
            var clients = new HashSet<string>();
            // The server is a rendered workload, or pods an operator runs (the RabbitMQ cluster).
            var serverPod = r.Workloads.SingleOrDefault(w => w.Name == server);
            var operated = r.OperatorPods.SingleOrDefault(p => p.Labels.GetValueOrDefault("app.kubernetes.io/name") == server);
            Assert.True(serverPod is not null || operated is not null, $"{render}: no pods named {server}");
            foreach (var policy in r.OfKind("NetworkPolicy"))
            {
                var selector = Yaml.Map(policy.Raw, "spec", "podSelector", "matchLabels") ?? [];
                if (serverPod is not null ? !Matches(serverPod, selector) : !OperatorPodsSelectedBy(r, selector).Any(p => p.Owner == operated!.Owner)) continue;
                foreach (var rule in Yaml.Maps(policy.Raw, "spec", "ingress"))
                {
                    var ports = Yaml.Maps(rule, "ports").Select(p => Yaml.Str(p, "port")).ToList();
                    if (ports.Count > 0 && !ports.Contains(port)) continue;
                    var from = Yaml.Maps(rule, "from").ToList();
                    if (from.Count == 0) clients.Add("*");
                    foreach (var peer in from)
                    {
                        if (Yaml.At(peer, "namespaceSelector") is not null)
                        {
                            clients.Add("namespace:" + Yaml.Str(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
                            continue;
                        }
                        foreach (var pod in PodsSelectedBy(r, Yaml.Map(peer, "podSelector", "matchLabels") ?? [])) clients.Add(pod.Name);
                    }
                }
            }
            return clients;
        }
        Assert.Equal(["worker-large", "worker-small"], Clients("task-service", "result-sink").Order());
        Assert.Equal(["frontend"], Clients("task-service", "grpc").Order());
        var brokerClients = Clients("rabbitmq", "amqp");
        brokerClients.Remove("namespace:keda");
        brokerClients.Remove("rabbitmq"); // the nodes of a cluster talk to each other
        Assert.Equal(["task-service", "worker-large", "worker-small"], brokerClients.Order());
        Assert.Empty(Clients("worker-large", "control"));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Operator_resources_are_well_formed_and_production_uses_them(string render)
    {
        var r = Renders.Get(render);
        if (r.IsProduction)
        {
            Assert.NotNull(r.PostgresCluster);
            Assert.NotNull(r.RabbitmqCluster);
        }
        if (r.Name.Split('+')[0] == "overlays/minikube" && r.PostgresCluster is null) Assert.Equal("1", Yaml.Str(r.Find("Deployment", "task-service")!.Raw, "spec", "replicas"));
        if (r.PostgresCluster is { } postgres)
        {
            Assert.Equal("3", Yaml.Str(postgres.Raw, "spec", "instances"));
            AssertPinned(render, Yaml.Str(postgres.Raw, "spec", "imageName"));
            Assert.NotNull(Yaml.Str(postgres.Raw, "spec", "storage", "size"));
            Assert.NotNull(Yaml.Str(postgres.Raw, "spec", "bootstrap", "initdb", "database"));
            Assert.NotNull(Yaml.Str(postgres.Raw, "spec", "bootstrap", "initdb", "owner"));
            // The app Secret the task-service reads is the operator's (no bootstrap secret of our own).
            Assert.Null(Yaml.At(postgres.Raw, "spec", "bootstrap", "initdb", "secret"));
            foreach (var kind in new[] { "requests", "limits" }) Assert.NotNull(Yaml.Str(postgres.Raw, "spec", "resources", kind, "memory"));
        }
        if (r.RabbitmqCluster is { } rabbit)
        {
            AssertPinned(render, Yaml.Str(rabbit.Raw, "spec", "image"));
            foreach (var kind in new[] { "requests", "limits" }) Assert.NotNull(Yaml.Str(rabbit.Raw, "spec", "resources", kind, "memory"));
            // The broker settings of base/rabbitmq.conf travel with it (consumer timeout above every time limit).
            Assert.Contains("consumer_timeout = 1800000", Yaml.Str(rabbit.Raw, "spec", "rabbitmq", "additionalConfig") ?? "", StringComparison.Ordinal);
            Assert.Contains("consumer_timeout = 1800000", File.ReadAllText(Repo.PathOf("deploy/kustomize/base/rabbitmq.conf")), StringComparison.Ordinal);
            // Every broker client names the three pods of the operator's StatefulSet.
            foreach (var client in r.Workloads.Where(w => w.Containers.Any(c => Yaml.Maps(c, "env").Any(e => Yaml.Str(e, "name") == "RabbitMq__Uri"))))
            {
                var endpoints = Yaml.Maps(client.Containers.Single(), "env").SingleOrDefault(e => Yaml.Str(e, "name") == "RabbitMq__Endpoints");
                Assert.True(endpoints is not null, $"{render}: {client} has no RabbitMq__Endpoints");
                var replicas = int.Parse(Yaml.Str(rabbit.Raw, "spec", "replicas")!, CultureInfo.InvariantCulture);
                Assert.Equal(Enumerable.Range(0, replicas).Select(i => $"{rabbit.Name}-server-{i}.{rabbit.Name}-nodes:5672"), Yaml.Str(endpoints, "value")!.Split(','));
            }
        }
        else
        {
            Assert.DoesNotContain(r.Workloads.SelectMany(w => w.Containers).SelectMany(c => Yaml.Maps(c, "env")), e => Yaml.Str(e, "name") == "RabbitMq__Endpoints");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Monitoring_scrapes_every_service_and_alerts_on_what_flower_users_watch(string render)
    {
        var r = Renders.Get(render);
        var monitors = r.OfKind("PodMonitor").ToList();
        if (!r.Includes("monitoring"))
        {
            Assert.Empty(monitors);
            return;
        }
        // Every workload built from a Skaffold artifact is scraped on a port it declares.
        foreach (var workload in r.Workloads.Where(w => w.Containers.Any(c => Skaffold.ArtifactOf(Yaml.Str(c, "image") ?? "") is not null)))
        {
            var scraping = monitors.Where(m => Matches(workload, Yaml.Map(m.Raw, "spec", "selector", "matchLabels") ?? [])).ToList();
            var monitor = Assert.Single(scraping);
            foreach (var endpoint in Yaml.Maps(monitor.Raw, "spec", "podMetricsEndpoints"))
            {
                Assert.True(ResolvesToContainerPort(workload, Yaml.Str(endpoint, "port")!), $"{render}: {monitor} scrapes port {Yaml.Str(endpoint, "port")}, not a port of {workload}");
                Assert.Equal("/metrics", Yaml.Str(endpoint, "path"));
            }
        }
        var rules = Assert.Single(r.OfKind("PrometheusRule"));
        var alerts = Yaml.Maps(rules.Raw, "spec", "groups").SelectMany(g => Yaml.Maps(g, "rules")).ToList();
        Assert.Equal(["CeleryKubeDeadLettersPiling", "CeleryKubeHighFailureRatio", "CeleryKubeQueueBacklogGrowing", "CeleryKubeTasksStuckRunning", "CeleryKubeWorkersOffline"],
            alerts.Select(a => Yaml.Str(a, "alert")!).Order());
        Assert.All(alerts, a => Assert.Contains("celerykube_", Yaml.Str(a, "expr") ?? "", StringComparison.Ordinal));
        Assert.All(alerts, a => Assert.NotNull(Yaml.Str(a, "annotations", "summary")));
        // The dashboard: a ConfigMap Grafana's sidecar picks up, holding a dashboard whose every
        // panel queries CeleryKube's metrics (the names are checked against a live scrape in ScaleOut.Tests).
        var dashboard = Assert.Single(r.OfKind("ConfigMap"), c => Yaml.Str(c.Raw, "metadata", "labels", "grafana_dashboard") == "1");
        var json = System.Text.Json.JsonDocument.Parse(Yaml.Map(dashboard.Raw, "data")!.Values.Single()!.ToString()!);
        var panels = json.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, p => Assert.All(p.GetProperty("targets").EnumerateArray(),
            t => Assert.Contains("celerykube_", t.GetProperty("expr").GetString(), StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Sign_in_is_on_in_production_for_the_api_and_the_web_ui_and_off_elsewhere(string render)
    {
        var r = Renders.Get(render);
        var settings = new[] { "task-service", "frontend" }.ToDictionary(name => name, name =>
        {
            var container = r.Find("Deployment", name)?.Containers.Single() ?? throw new Xunit.Sdk.XunitException($"{render}: no Deployment {name}");
            return Yaml.Maps(container, "env").ToDictionary(e => Yaml.Str(e, "name")!, e => (Env: e, Value: ValueOf(r, e)));
        });
        if (!r.Includes("sign-in"))
        {
            // Off (the services' default): a laptop or minikube run on loopback or port-forward.
            foreach (var (name, env) in settings) Assert.DoesNotContain(env.Keys, k => k.StartsWith("Auth__", StringComparison.Ordinal));
            return;
        }
        foreach (var (name, env) in settings)
        {
            Assert.True(env.TryGetValue("Auth__Enabled", out var enabled) && enabled.Value == "true", $"{render}: {name} runs without Auth__Enabled=true");
            var authority = env.GetValueOrDefault("Auth__Authority").Value;
            Assert.True(Uri.TryCreate(authority, UriKind.Absolute, out var issuer) && issuer.Scheme == "https", $"{render}: {name} Auth__Authority '{authority}' is not an https URL");
        }
        // Both read one issuer and one role rule, so the buttons the web UI shows are the calls the API allows.
        foreach (var setting in new[] { "Auth__Authority", "Auth__RoleClaim", "Auth__OperatorRole" })
        {
            var (api, page) = (settings["task-service"].GetValueOrDefault(setting).Value, settings["frontend"].GetValueOrDefault(setting).Value);
            Assert.True(api is not null && api == page, $"{render}: {setting} is '{api}' for task-service but '{page}' for the frontend");
        }
        var web = settings["frontend"];
        Assert.False(string.IsNullOrWhiteSpace(web.GetValueOrDefault("Auth__ClientId").Value), $"{render}: the frontend has no Auth__ClientId");
        Assert.NotNull(Yaml.At(web["Auth__ClientSecret"].Env, "valueFrom", "secretKeyRef"));
        // Behind the TLS-ending Ingress the issuer must be asked to send people back over https.
        Assert.True(web.TryGetValue("Frontend__TrustForwardedHeaders", out var forwarded) && forwarded.Value == "true",
            $"{render}: the frontend ignores X-Forwarded-Proto, so its sign-in redirect URI would be http://");
    }

    private static void AssertPinned(string render, string? image) =>
        Assert.True(image is not null && image.Contains(':') && !image.EndsWith(":latest", StringComparison.Ordinal), $"{render}: pin the operator image {image} to a version");

    /// <summary>
    /// Variables a service does not bind but that may stand in a container all the same: a
    /// downward-API value (pod IP, pod name) or a Secret's key (an operator's generated password)
    /// that a later setting composes with <c>$(NAME)</c>. Returns each with a sample value for
    /// validating the settings that use it.
    /// </summary>
    private static Dictionary<string, string> CompositionHelpers(List<Dictionary<object, object?>> env)
    {
        var samples = new Dictionary<string, string> { ["status.podIP"] = "10.244.0.17", ["metadata.name"] = "worker-large-0" };
        var helpers = new Dictionary<string, string>();
        for (var i = 0; i < env.Count; i++)
        {
            var name = Yaml.Str(env[i], "name")!;
            var sample = Yaml.Str(env[i], "valueFrom", "fieldRef", "fieldPath") is { } path ? samples.GetValueOrDefault(path)
                : Yaml.Str(env[i], "valueFrom", "secretKeyRef", "key") is { } key ? $"sample{key.Replace("-", "", StringComparison.Ordinal)}"
                : null;
            if (sample is null) continue;
            // Kubernetes expands $(NAME) only from variables defined earlier in the list.
            if (env.Skip(i + 1).Any(e => Yaml.Str(e, "value")?.Contains($"$({name})", StringComparison.Ordinal) == true)) helpers[name] = sample;
        }
        return helpers;
    }

    private static string? ValueOf(Render r, Dictionary<object, object?> env)
    {
        if (Yaml.Str(env, "value") is { } literal) return literal;
        if (Yaml.Map(env, "valueFrom", "secretKeyRef") is { } reference
            && r.Find("Secret", Yaml.Str(reference, "name") ?? "") is { } secret
            && Decode(secret).TryGetValue(Yaml.Str(reference, "key") ?? "", out var value)) return value;
        if (Yaml.Map(env, "valueFrom", "configMapKeyRef") is { } configReference
            && r.Find("ConfigMap", Yaml.Str(configReference, "name") ?? "") is { } configMap)
            return Yaml.Str(configMap.Raw, "data", Yaml.Str(configReference, "key") ?? "");
        return null;
    }

    private static bool IsSecretSetting(string name) =>
        name.EndsWith("__Token", StringComparison.Ordinal) || name.EndsWith("__Password", StringComparison.Ordinal) || name.EndsWith("_PASSWORD", StringComparison.Ordinal)
        || name.EndsWith("__ClientSecret", StringComparison.Ordinal) || name.EndsWith("__Key", StringComparison.Ordinal)
        || name == "RabbitMq__Uri" || name.StartsWith("RABBITMQ_DEFAULT_", StringComparison.Ordinal) && name != "RABBITMQ_DEFAULT_VHOST";

    /// <summary>A Secret's key a workload reads; no key for a whole Secret read as settings (envFrom).</summary>
    private sealed record SecretReference(string Secret, string? Key)
    {
        public override string ToString() => Key is null ? Secret : $"{Secret}/{Key}";
    }

    private static IEnumerable<SecretReference> SecretReferences(Render r)
    {
        foreach (var container in r.Workloads.SelectMany(w => w.Containers))
        {
            foreach (var env in Yaml.Maps(container, "env"))
            {
                if (Yaml.Map(env, "valueFrom", "secretKeyRef") is { } reference)
                {
                    yield return new SecretReference(Yaml.Str(reference, "name")!, Yaml.Str(reference, "key")!);
                }
            }
            foreach (var source in Yaml.Maps(container, "envFrom"))
            {
                if (Yaml.Str(source, "secretRef", "name") is { } name) yield return new SecretReference(name, null);
            }
        }
        foreach (var auth in r.OfKind("TriggerAuthentication"))
        {
            foreach (var reference in Yaml.Maps(auth.Raw, "spec", "secretTargetRef"))
            {
                yield return new SecretReference(Yaml.Str(reference, "name")!, Yaml.Str(reference, "key")!);
            }
        }
    }

    private static Dictionary<string, string> Decode(K8sObject secret)
    {
        var values = new Dictionary<string, string>();
        foreach (var (key, value) in Yaml.Map(secret.Raw, "data") ?? [])
        {
            values[key.ToString()!] = Encoding.UTF8.GetString(Convert.FromBase64String(value?.ToString() ?? ""));
        }
        foreach (var (key, value) in Yaml.Map(secret.Raw, "stringData") ?? []) values[key.ToString()!] = value?.ToString() ?? "";
        return values;
    }

    private static IEnumerable<K8sObject> PodsSelectedBy(Render r, Dictionary<object, object?> labels) =>
        r.Workloads.Where(w => Matches(w, labels));

    private static IEnumerable<OperatorPods> OperatorPodsSelectedBy(Render r, Dictionary<object, object?> labels) =>
        r.OperatorPods.Where(p => labels.Count > 0 && labels.All(l => p.Labels.TryGetValue(l.Key.ToString()!, out var v) && v == l.Value?.ToString()));

    private static bool Matches(K8sObject workload, Dictionary<object, object?> labels)
    {
        var podLabels = Yaml.Map(workload.Raw, "spec", "template", "metadata", "labels") ?? [];
        return labels.All(l => podLabels.TryGetValue(l.Key, out var v) && Equals(v?.ToString(), l.Value?.ToString()));
    }

    private static IEnumerable<(string? Name, string Number)> ContainerPorts(Dictionary<object, object?> container) =>
        Yaml.Maps(container, "ports").Select(p => (Yaml.Str(p, "name"), Yaml.Str(p, "containerPort")!));

    private static bool ResolvesToContainerPort(K8sObject workload, string port) =>
        workload.Containers.SelectMany(ContainerPorts).Any(p => p.Name == port || p.Number == port);
}
