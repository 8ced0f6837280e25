using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>
/// Which contacts a trigger's control group holds out (docs/semantics.md, "Control groups"): a stable hash, with no random
/// source, so the same contact is in or out of a trigger's control group in every version of it, and an audit replay
/// reproduces the assignment.
/// </summary>
public static class ControlGroups
{
    public const int BucketCount = Dsl.Compilation.ControlGroup.BucketCount;

    /// <summary>
    /// The contact's bucket for the trigger, 0 to 9,999: the first 8 bytes of SHA-256 over the UTF-8 text
    /// <c>workspace/trigger/contact</c> (the contact id in its 36-character lower-case form), read as an unsigned big-endian
    /// integer, modulo 10,000. The trigger's version is left out on purpose: holdouts stay stable across edits.
    /// </summary>
    public static int BucketOf(string workspace, string trigger, Guid contactId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{workspace}/{trigger}/{contactId:D}"));
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % BucketCount);
    }
}
