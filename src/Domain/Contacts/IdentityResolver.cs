namespace EventSourcedJourneys.Domain.Contacts;

/// <summary>Contact <paramref name="Absorbed"/> is <paramref name="Survivor"/>; <paramref name="Identities"/> move over.</summary>
public sealed record ContactMerge(Guid Absorbed, Guid Survivor, IReadOnlyList<Identity> Identities);

/// <summary>Where one call goes: its contact, the identities it links to that contact, and any merge it shows.</summary>
public sealed record IdentityResolution(Guid ContactId, IReadOnlyList<Identity> Links, ContactMerge? Merge);

/// <summary>
/// Maps the ids of tracking calls to contacts, call by call in arrival order, as docs/adr/0004-contact-identity.md
/// states. Pure: it starts from the index entries and contact identities read from the store, and records what it
/// changed (<see cref="Created"/>, <see cref="Repointed"/>) for the caller to write in the same transaction.
/// </summary>
public sealed class IdentityResolver
{
    private readonly string _workspace;
    private readonly Dictionary<string, Guid> _index;
    private readonly Dictionary<Guid, List<Identity>> _identities;
    private readonly HashSet<string> _stored;

    /// <param name="index">Index entries found in the store (identity key → contact).</param>
    /// <param name="identities">Identities of the stored contacts this batch may link or merge.</param>
    public IdentityResolver(string workspace, IReadOnlyDictionary<string, Guid> index, IReadOnlyDictionary<Guid, IReadOnlyList<Identity>> identities)
    {
        _workspace = workspace;
        _index = new Dictionary<string, Guid>(index, StringComparer.Ordinal);
        _stored = new HashSet<string>(index.Keys, StringComparer.Ordinal);
        _identities = identities.ToDictionary(p => p.Key, p => p.Value.ToList());
    }

    /// <summary>Index entries to insert: identities seen for the first time.</summary>
    public Dictionary<string, (Identity Identity, Guid ContactId)> Created { get; } = new(StringComparer.Ordinal);

    /// <summary>Stored index entries that now point to another contact (after a merge).</summary>
    public Dictionary<string, (Identity Identity, Guid ContactId)> Repointed { get; } = new(StringComparer.Ordinal);

    public Guid? Find(Identity identity) => _index.TryGetValue(identity.Key, out var contact) ? contact : null;

    /// <summary>track, identify, page, screen, group: by <c>userId</c> first, linking a new <c>anonymousId</c> to it.</summary>
    public IdentityResolution Resolve(string? userId, string? anonymousId)
    {
        var user = userId is null ? null : Identity.User(userId);
        var anonymous = anonymousId is null ? null : Identity.Anonymous(anonymousId);
        var byUser = user is null ? null : Find(user);
        var byAnonymous = anonymous is null ? null : Find(anonymous);

        if (user is null)
        {
            if (byAnonymous is { } known) return new(known, [], null);
            return NewContact(anonymous!, []);
        }

        if (byUser is { } contact)
        {
            if (anonymous is null) return new(contact, [], null);
            if (byAnonymous is null) return new(contact, [Link(anonymous, contact)], null);
            if (byAnonymous == contact) return new(contact, [], null);
            // The anonymous history belongs to this user unless that device's contact already signed up as someone else.
            return HasUser(byAnonymous.Value) ? new(contact, [], null) : new(contact, [], Merge(byAnonymous.Value, contact));
        }

        if (byAnonymous is { } anonymousContact && !HasUser(anonymousContact))
            return new(anonymousContact, [Link(user, anonymousContact)], null); // "app installed" → "registered"

        return NewContact(user, byAnonymous is null && anonymous is not null ? [anonymous] : []);
    }

    /// <summary>alias: <paramref name="previousId"/> (a user or anonymous id) is <paramref name="userId"/>; two known contacts merge.</summary>
    public IdentityResolution ResolveAlias(string previousId, string userId)
    {
        var user = Identity.User(userId);
        var previous = Find(Identity.User(previousId)) is not null ? Identity.User(previousId) : Identity.Anonymous(previousId);
        var byUser = Find(user);
        var byPrevious = Find(previous);

        return (byUser, byPrevious) switch
        {
            (null, null) => NewContact(user, [previous]),
            (null, { } p) => new(p, [Link(user, p)], null),
            ({ } u, null) => new(u, [Link(previous, u)], null),
            ({ } u, { } p) when u == p => new(u, [], null),
            ({ } u, { } p) => new(u, [], Merge(p, u)),
        };
    }

    private IdentityResolution NewContact(Identity first, IReadOnlyList<Identity> others)
    {
        var contact = ContactIds.For(_workspace, first);
        // A deterministic id can already exist when its first identity was merged away; then it simply continues.
        var links = new List<Identity> { Link(first, contact) };
        links.AddRange(others.Select(o => Link(o, contact)));
        return new(contact, links, null);
    }

    private Identity Link(Identity identity, Guid contact)
    {
        Point(identity, contact);
        IdentitiesOf(contact).Add(identity);
        return identity;
    }

    private ContactMerge Merge(Guid absorbed, Guid survivor)
    {
        var moved = IdentitiesOf(absorbed).ToList();
        foreach (var identity in moved) Point(identity, survivor);
        IdentitiesOf(survivor).AddRange(moved);
        _identities[absorbed] = [];
        return new ContactMerge(absorbed, survivor, moved);
    }

    private void Point(Identity identity, Guid contact)
    {
        _index[identity.Key] = contact;
        if (_stored.Contains(identity.Key)) Repointed[identity.Key] = (identity, contact);
        else Created[identity.Key] = (identity, contact);
    }

    private bool HasUser(Guid contact) => IdentitiesOf(contact).Any(i => i.Kind == IdentityKind.User);

    private List<Identity> IdentitiesOf(Guid contact) =>
        _identities.TryGetValue(contact, out var list) ? list : _identities[contact] = [];
}
