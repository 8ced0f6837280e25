using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Api.Hosting;

namespace EventSourcedJourneys.Api.Admin;

/// <summary>
/// The operator's key for the deployment-wide admin API (<c>/admin/…</c>), which no workspace key opens (ADR 0009):
/// <c>Journeys:AdminKey</c> when set; on the embedded default database, else generated on the first start and kept in
/// <c>Journeys:AdminKeyFile</c> (default .data/admin.env) like the demo workspace's keys; otherwise there is none and
/// the admin API answers 401 saying how to set one.
/// </summary>
public sealed class OperatorKey(IConfiguration configuration, JourneysDatabase database, ILogger<OperatorKey> logger) : IHostedService
{
    public const string Policy = "operator";
    public const string KeyKind = "Operator";
    private const string Variable = "JOURNEYS_ADMIN_KEY";

    private readonly Lazy<string?> _key = new(() => Resolve(configuration, database, logger));

    public bool IsConfigured => _key.Value is not null;

    public bool Matches(string candidate) =>
        _key.Value is { } key && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), Encoding.UTF8.GetBytes(key));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = _key.Value;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string? Resolve(IConfiguration configuration, JourneysDatabase database, ILogger logger)
    {
        var configured = configuration["Journeys:AdminKey"];
        if (!string.IsNullOrWhiteSpace(configured)) return configured.Trim();
        if (!database.IsEmbedded) return null;

        var file = Path.GetFullPath(configuration["Journeys:AdminKeyFile"] ?? ".data/admin.env");
        if (File.Exists(file))
        {
            var line = File.ReadAllLines(file).FirstOrDefault(l => l.StartsWith(Variable + "=", StringComparison.Ordinal));
            if (line is not null && line.Length > Variable.Length + 1) return line[(Variable.Length + 1)..].Trim();
        }

        var key = "esj_admin_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, $"{Variable}={key}\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        logger.LogWarning("Generated the operator key for /admin (projection rebuilds): {File}", file);
        return key;
    }
}
