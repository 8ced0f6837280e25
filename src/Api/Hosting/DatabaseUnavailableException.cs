namespace EventSourcedJourneys.Api.Hosting;

/// <summary>The database cannot be reached or started; the message says what to do about it.</summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
