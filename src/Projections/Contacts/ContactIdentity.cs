using EventSourcedJourneys.Domain.Contacts;

namespace EventSourcedJourneys.Projections.Contacts;

/// <summary>
/// The identity index: which contact an identity (<c>user:&lt;id&gt;</c>, <c>anon:&lt;id&gt;</c>) belongs to in a
/// workspace. Written by ingestion in the transaction that appends the <see cref="IdentityLinked"/> or
/// <see cref="ContactMerged"/> event, inserted (never upserted) so that two first calls racing on one identity
/// cannot both win.
/// </summary>
public sealed record ContactIdentity(string Id, IdentityKind Kind, string Value, Guid ContactId);

/// <summary>A messageId the workspace has already stored: the exactly-once guard of ingestion (ADR 0005).</summary>
public sealed record IngestedMessage(string Id);
