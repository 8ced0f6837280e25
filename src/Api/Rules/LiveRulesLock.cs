using System.Text;
using Marten;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>
/// One change to a workspace's live rules at a time. Publish, pause, resume and archive each read the live rule set
/// (to check the change against the other live rules) and the inline projection writes the set back as one document;
/// two such changes in concurrent transactions would each write the set from the same old state, and one rule's change
/// would be lost. A transaction-scoped PostgreSQL advisory lock per workspace, taken before anything is read, makes
/// them one after the other — on one node or several.
/// </summary>
public static class LiveRulesLock
{
    private const int LockSpace = 0x45534A52; // "ESJR"

    public static async Task TakeAsync(IDocumentSession session, CancellationToken cancellation)
    {
        await session.BeginTransactionAsync(cancellation);
        await session.AdvancedSql.QueryAsync<int>("select count(*)::int from (select pg_advisory_xact_lock(?, ?)) as locked",
            cancellation, LockSpace, Key(session.TenantId));
    }

    /// <summary>FNV-1a of the workspace id: the same on every node and every run (string hash codes are not).</summary>
    private static int Key(string workspace)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(workspace)) hash = (hash ^ b) * 16777619u;
        return unchecked((int)hash);
    }
}
