using CampaignOrchestrator.Core.Journeys;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// The most recently written profiles, so a batch skips reading (and parsing) them again. Only for
/// SQLite, where this process is the file's one writer (<see cref="Database"/> holds a lock file):
/// every change to a profile goes through this process's write transactions, which keep the cache
/// in step. Used only inside a write transaction; a failed transaction clears it.
/// </summary>
internal sealed class ProfileCache(int capacity)
{
    readonly Dictionary<string, LinkedListNode<JourneyProfile>> _map = new(StringComparer.Ordinal);
    readonly LinkedList<JourneyProfile> _recent = new();
    readonly Lock _lock = new();

    public int Count { get { lock (_lock) return _map.Count; } }

    public bool TryGet(string profileId, out JourneyProfile profile)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(profileId, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                profile = node.Value;
                return true;
            }
        }
        profile = null!;
        return false;
    }

    public void Set(JourneyProfile profile)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(profile.ProfileId, out var node))
            {
                node.Value = profile;
                _recent.Remove(node);
                _recent.AddFirst(node);
                return;
            }
            _map[profile.ProfileId] = _recent.AddFirst(profile);
            while (_map.Count > capacity && _recent.Last is { } oldest)
            {
                _recent.RemoveLast();
                _map.Remove(oldest.Value.ProfileId);
            }
        }
    }

    public void Remove(string profileId)
    {
        lock (_lock)
        {
            if (_map.Remove(profileId, out var node))
                _recent.Remove(node);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            _recent.Clear();
        }
    }
}
