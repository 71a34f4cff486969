// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Legato anchor registry
/// @author Legato
/// @notice Records the Merkle roots of batches of Legato certificates of authorship, so that anyone can check
///         with one `eth_call` that a certificate's leaf was included in a batch anchored at a given time.
/// @dev Leaves and nodes are keccak256 hashes with domain-separation prefixes (0x00 for leaves, 0x01 for
///      nodes); a node hashes its two children in ascending order, so proofs carry no left/right flags.
///      The exact layout is documented in docs/merkle.md. The contract never sees leaves, only roots:
///      a batch holding two equal leaves anchors like any other.
contract LegatoRegistry {
    /// @dev Packed into one storage slot; `timestamp == 0` means "not anchored".
    struct Anchor {
        uint64 timestamp;
        uint64 blockNumber;
        uint32 leafCount;
    }

    /// @notice The account that manages anchorers and may hand the contract over.
    address public owner;

    /// @notice Accounts allowed to call `anchor`.
    mapping(address account => bool allowed) public isAnchorer;

    mapping(bytes32 root => Anchor) private _anchors;

    /// @dev When a platform signing key was authorized and retired; all zero for a key never authorized.
    struct SigningKey {
        uint64 authorizedAt;
        uint64 authorizedBlock;
        uint64 retiredAt;
        uint64 retiredBlock;
    }

    /// @dev Keyed by sha256 of the raw 32-byte Ed25519 public key (its first 8 bytes, in hex, are the key id).
    mapping(bytes32 keyHash => SigningKey) private _signingKeys;

    /// @notice A batch root was recorded. `manifestCid` names the pinned batch manifest (all leaves).
    event Anchored(bytes32 indexed root, uint32 leafCount, string manifestCid, uint64 timestamp);

    /// @notice `account` was allowed (`allowed = true`) or no longer allowed to anchor.
    event AnchorerSet(address indexed account, bool allowed);

    /// @notice The platform authorized the Ed25519 key whose public key hashes (sha256) to `keyHash` to sign
    ///         certificates from this block on.
    event SigningKeyAuthorized(bytes32 indexed keyHash, uint64 timestamp);

    /// @notice The key signs no new certificates from this block on; what it signed before stays valid.
    event SigningKeyRetired(bytes32 indexed keyHash, uint64 timestamp);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error NotAnchorer(address caller);
    /// @notice The root was anchored before, at `timestamp`; a root is recorded once and never moved.
    error AlreadyAnchored(bytes32 root, uint64 timestamp);
    error EmptyRoot();
    error EmptyBatch();
    error ZeroAddress();
    error KeyAlreadyAuthorized(bytes32 keyHash);
    error KeyNotAuthorized(bytes32 keyHash);
    error KeyAlreadyRetired(bytes32 keyHash);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice The deployer becomes the owner and the first anchorer.
    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        isAnchorer[msg.sender] = true;
        emit AnchorerSet(msg.sender, true);
    }

    /// @notice Hand the owner role to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Allow or forbid `account` to anchor roots.
    function setAnchorer(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        isAnchorer[account] = allowed;
        emit AnchorerSet(account, allowed);
    }

    /// @notice Authorize a platform signing key. A key is authorized once; a retired key stays retired.
    /// @param keyHash sha256 of the raw 32-byte Ed25519 public key.
    function authorizeSigningKey(bytes32 keyHash) external onlyOwner {
        if (keyHash == bytes32(0)) revert EmptyRoot();
        if (_signingKeys[keyHash].authorizedAt != 0) revert KeyAlreadyAuthorized(keyHash);
        uint64 timestamp = uint64(block.timestamp);
        _signingKeys[keyHash] = SigningKey(timestamp, uint64(block.number), 0, 0);
        emit SigningKeyAuthorized(keyHash, timestamp);
    }

    /// @notice Retire a signing key: certificates anchored from this block on must be signed by another key.
    function retireSigningKey(bytes32 keyHash) external onlyOwner {
        SigningKey storage key = _signingKeys[keyHash];
        if (key.authorizedAt == 0) revert KeyNotAuthorized(keyHash);
        if (key.retiredAt != 0) revert KeyAlreadyRetired(keyHash);
        key.retiredAt = uint64(block.timestamp);
        key.retiredBlock = uint64(block.number);
        emit SigningKeyRetired(keyHash, key.retiredAt);
    }

    /// @notice When `keyHash` was authorized and retired (block timestamp and number); zeros for "never".
    function signingKey(bytes32 keyHash)
        external
        view
        returns (uint64 authorizedAt, uint64 authorizedBlock, uint64 retiredAt, uint64 retiredBlock)
    {
        SigningKey memory key = _signingKeys[keyHash];
        return (key.authorizedAt, key.authorizedBlock, key.retiredAt, key.retiredBlock);
    }

    /// @notice Record `root`, the Merkle root of a batch of `leafCount` certificate leaves.
    /// @param root The batch's Merkle root (docs/merkle.md).
    /// @param leafCount How many leaves the batch holds (at least one).
    /// @param manifestCid The IPFS CID of the batch manifest, kept only in the event.
    function anchor(bytes32 root, uint32 leafCount, string calldata manifestCid) external {
        if (!isAnchorer[msg.sender]) revert NotAnchorer(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (leafCount == 0) revert EmptyBatch();
        uint64 existing = _anchors[root].timestamp;
        if (existing != 0) revert AlreadyAnchored(root, existing);
        uint64 timestamp = uint64(block.timestamp);
        _anchors[root] = Anchor(timestamp, uint64(block.number), leafCount);
        emit Anchored(root, leafCount, manifestCid, timestamp);
    }

    /// @notice The block timestamp at which `root` was anchored, 0 if it never was.
    function anchoredAt(bytes32 root) external view returns (uint64) {
        return _anchors[root].timestamp;
    }

    /// @notice Everything recorded for `root`; all zero if it was never anchored.
    /// @dev `blockNumber` lets a reader fetch the `Anchored` event (and its transaction) from one block.
    function anchorOf(bytes32 root) external view returns (uint64 timestamp, uint64 blockNumber, uint32 leafCount) {
        Anchor memory a = _anchors[root];
        return (a.timestamp, a.blockNumber, a.leafCount);
    }

    /// @notice True only when `proof` leads from `leaf` to `root` AND `root` has been anchored here.
    /// @param leaf The leaf hash keccak256(0x00 || leafInput), not the leaf input itself.
    /// @param proof The sibling hashes from the leaf up to the root, in order.
    function verify(bytes32 leaf, bytes32[] calldata proof, bytes32 root) external view returns (bool) {
        if (_anchors[root].timestamp == 0) return false;
        return processProof(leaf, proof) == root;
    }

    /// @notice The root that `proof` leads to from `leaf`, whether or not it is anchored.
    function processProof(bytes32 leaf, bytes32[] calldata proof) public pure returns (bytes32 computed) {
        computed = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            computed = _hashNode(computed, proof[i]);
        }
    }

    /// @dev keccak256(0x01 || min(a, b) || max(a, b)), the bytes compared as unsigned 256-bit integers.
    function _hashNode(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(bytes1(0x01), a, b)) : keccak256(abi.encodePacked(bytes1(0x01), b, a));
    }
}
