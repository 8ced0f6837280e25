namespace EventSourcedJourneys.Api.Hosting;

/// <summary>The PostgreSQL server programs found on this machine (initdb, pg_ctl, postgres).</summary>
public sealed record PostgresBinaries(string Directory)
{
    public string InitDb => Path.Combine(Directory, "initdb");
    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    public const string InstallHint =
        "Install the PostgreSQL server package (Debian/Ubuntu: 'apt-get install postgresql'; " +
        "macOS: 'brew install postgresql') or point the API at an existing server with the connection string " +
        "ConnectionStrings:Journeys (for example the environment variable " +
        "ConnectionStrings__Journeys='Host=localhost;Port=5432;Database=journeys;Username=journeys;Password=...').";

    /// <summary>
    /// Looks only in <paramref name="preferredDirectory"/> when one is configured; otherwise on PATH first,
    /// then under /usr/lib/postgresql/*/bin (newest major version first), then the usual PGDG locations.
    /// </summary>
    public static PostgresBinaries? Find(string? preferredDirectory = null)
    {
        foreach (var candidate in Candidates(preferredDirectory))
        {
            if (File.Exists(Path.Combine(candidate, "initdb")) && File.Exists(Path.Combine(candidate, "pg_ctl"))
                && File.Exists(Path.Combine(candidate, "postgres")))
            {
                return new PostgresBinaries(ResolveLinks(candidate));
            }
        }
        return null;
    }

    private static IEnumerable<string> Candidates(string? preferredDirectory)
    {
        if (!string.IsNullOrWhiteSpace(preferredDirectory))
        {
            yield return preferredDirectory;
            yield break;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)) yield return dir;

        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/local/pgsql", "/opt/homebrew/opt", "/usr/pgsql" })
        {
            if (!System.IO.Directory.Exists(root)) continue;
            var versions = System.IO.Directory.GetDirectories(root)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d).Split('-', '@').Last(), out var v) ? v : 0);
            foreach (var version in versions) yield return Path.Combine(version, "bin");
        }
    }

    // initdb on PATH is often a symlink (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb);
    // pg_ctl must find 'postgres' beside the real files.
    private static string ResolveLinks(string directory)
    {
        var initdb = new FileInfo(Path.Combine(directory, "initdb"));
        var target = initdb.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? directory : Path.GetDirectoryName(target.FullName)!;
    }
}
