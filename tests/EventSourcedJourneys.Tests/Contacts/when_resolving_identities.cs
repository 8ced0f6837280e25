using EventSourcedJourneys.Domain.Contacts;

namespace EventSourcedJourneys.Tests.Contacts;

/// <summary>The identity rules of ADR 0004 as a pure function: no database.</summary>
public sealed class when_resolving_identities
{
    private static IdentityResolver Empty() => new("acme", new Dictionary<string, Guid>(), new Dictionary<Guid, IReadOnlyList<Identity>>());

    [Fact]
    public void a_new_person_gets_the_id_of_their_first_identity_in_their_workspace()
    {
        var first = Empty().Resolve("ada", "device-1");
        Assert.Equal(ContactIds.For("acme", Identity.User("ada")), first.ContactId);
        Assert.Equal([Identity.User("ada"), Identity.Anonymous("device-1")], first.Links);
        Assert.NotEqual(first.ContactId, ContactIds.For("globex", Identity.User("ada")));
    }

    [Fact]
    public void sign_up_after_anonymous_activity_links_the_user_to_the_anonymous_contact()
    {
        var resolver = Empty();
        var installed = resolver.Resolve(null, "device-1");
        var registered = resolver.Resolve("ada", "device-1");
        var later = resolver.Resolve("ada", null);

        Assert.Equal(installed.ContactId, registered.ContactId);
        Assert.Equal([Identity.User("ada")], registered.Links);
        Assert.Null(registered.Merge);
        Assert.Equal(installed.ContactId, later.ContactId);
        Assert.Equal(installed.ContactId, resolver.Created["user:ada"].ContactId);
    }

    [Fact]
    public void two_stored_contacts_of_one_person_merge_into_the_users_and_the_index_moves()
    {
        var user = Guid.NewGuid();
        var device = Guid.NewGuid();
        var resolver = new IdentityResolver("acme",
            new Dictionary<string, Guid> { ["user:bob"] = user, ["anon:phone"] = device, ["anon:tablet"] = device },
            new Dictionary<Guid, IReadOnlyList<Identity>>
            {
                [user] = [Identity.User("bob")],
                [device] = [Identity.Anonymous("phone"), Identity.Anonymous("tablet")],
            });

        var resolution = resolver.Resolve("bob", "phone");
        Assert.Equal(user, resolution.ContactId);
        var merge = resolution.Merge!;
        Assert.Equal((device, user), (merge.Absorbed, merge.Survivor));
        Assert.Equal([Identity.Anonymous("phone"), Identity.Anonymous("tablet")], merge.Identities);
        Assert.Equal(user, resolver.Repointed["anon:tablet"].ContactId);
        Assert.Equal(user, resolver.Resolve(null, "tablet").ContactId);
    }

    [Fact]
    public void a_device_signed_up_as_someone_else_is_left_alone()
    {
        var carol = Guid.NewGuid();
        var resolver = new IdentityResolver("acme",
            new Dictionary<string, Guid> { ["user:carol"] = carol, ["anon:shared"] = carol },
            new Dictionary<Guid, IReadOnlyList<Identity>> { [carol] = [Identity.User("carol"), Identity.Anonymous("shared")] });

        var dave = resolver.Resolve("dave", "shared");
        Assert.NotEqual(carol, dave.ContactId);
        Assert.Null(dave.Merge);
        Assert.Equal([Identity.User("dave")], dave.Links);
        Assert.Equal(carol, resolver.Find(Identity.Anonymous("shared")));
    }

    [Fact]
    public void alias_of_an_unknown_previous_id_links_it_as_an_anonymous_id()
    {
        var resolver = Empty();
        var known = resolver.Resolve("new-id", null).ContactId;
        var aliased = resolver.ResolveAlias("legacy-7", "new-id");
        Assert.Equal(known, aliased.ContactId);
        Assert.Equal([Identity.Anonymous("legacy-7")], aliased.Links);
    }
}
