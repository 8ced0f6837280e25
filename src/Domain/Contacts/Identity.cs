using System.Text.Json.Serialization;

namespace EventSourcedJourneys.Domain.Contacts;

public enum IdentityKind
{
    /// <summary>The app's own id for a signed-up person (Segment's <c>userId</c>).</summary>
    User,

    /// <summary>A device or browser id from before sign-up (Segment's <c>anonymousId</c>).</summary>
    Anonymous,
}

/// <summary>One id under which a contact calls the tracking API.</summary>
public sealed record Identity(IdentityKind Kind, string Value)
{
    public static Identity User(string value) => new(IdentityKind.User, value);

    public static Identity Anonymous(string value) => new(IdentityKind.Anonymous, value);

    /// <summary>The id of the identity's index document: <c>user:&lt;id&gt;</c> or <c>anon:&lt;id&gt;</c>.</summary>
    [JsonIgnore]
    public string Key => (Kind == IdentityKind.User ? "user:" : "anon:") + Value;

    public override string ToString() => Key;
}

/// <summary>
/// Contact stream ids (docs/adr/0004-contact-identity.md): a contact's id is the name-based UUID of the first
/// identity it was seen with, in its workspace, so that concurrent first calls of one person converge on one stream.
/// </summary>
public static class ContactIds
{
    private static readonly Guid Namespace = new("6c3f1e8a-2d4b-5f70-9a1c-7e0b3d5a9c21");

    public static Guid For(string workspace, Identity identity) => DeterministicGuid.Create(Namespace, $"{workspace}/{identity.Key}");
}
