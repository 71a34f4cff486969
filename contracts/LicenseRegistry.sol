// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Legato license registry
/// @author Legato
/// @notice A public record of the licenses granted on Legato works, so a studio can show (and anyone can
///         check) that it holds, for example, the exclusive film rights to a story for a period.
/// @dev Periods are half-open `[start, end)` in Unix seconds: a grant ending at T and one starting at T do not
///      overlap. For one work and one medium, an exclusive grant may not overlap any other grant, and a
///      non-exclusive grant may not overlap an exclusive one. Media codes are assigned off-chain by the
///      marketplace; the contract only compares them. Every grant carries a caller-chosen `grantId` (the
///      marketplace's agreement id, hashed) so that a retried transaction can never record a grant twice.
contract LicenseRegistry {
    struct Grant {
        bytes32 grantId;
        bytes32 workId;
        bytes32 termsHash;
        address licensee;
        uint8 media;
        bool exclusive;
        uint64 start;
        uint64 end;
        uint64 grantedAt;
        uint64 blockNumber;
    }

    /// @notice The account that manages granters and may hand the contract over.
    address public owner;

    /// @notice Accounts allowed to call `grant`.
    mapping(address account => bool allowed) public isGranter;

    Grant[] private _grants;
    mapping(bytes32 grantId => uint256 indexPlusOne) private _indexOf;
    mapping(bytes32 workId => uint256[] indexes) private _workGrants;

    /// @notice A license was recorded.
    event LicenseGranted(
        bytes32 indexed grantId,
        bytes32 indexed workId,
        address indexed licensee,
        bytes32 termsHash,
        uint8 media,
        uint64 start,
        uint64 end,
        bool exclusive
    );

    event GranterSet(address indexed account, bool allowed);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error NotGranter(address caller);
    error ZeroAddress();
    error EmptyId();
    /// @notice `end` must be after `start`.
    error InvalidPeriod(uint64 start, uint64 end);
    /// @notice A grant with this id exists already.
    error DuplicateGrant(bytes32 grantId);
    /// @notice The grant would overlap grant `conflictingGrantId` for the same work and medium.
    error LicenseOverlap(bytes32 conflictingGrantId);
    error UnknownGrant(bytes32 grantId);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice The deployer becomes the owner and the first granter.
    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        isGranter[msg.sender] = true;
        emit GranterSet(msg.sender, true);
    }

    /// @notice Hand the owner role to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Allow or forbid `account` to record grants.
    function setGranter(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        isGranter[account] = allowed;
        emit GranterSet(account, allowed);
    }

    /// @notice Record a license on `workId` for `licensee` in `media` over `[start, end)`.
    /// @return index The grant's position in the registry-wide list (0-based).
    function grant(
        bytes32 grantId,
        bytes32 workId,
        address licensee,
        bytes32 termsHash,
        uint8 media,
        uint64 start,
        uint64 end,
        bool exclusive
    ) external returns (uint256 index) {
        if (!isGranter[msg.sender]) revert NotGranter(msg.sender);
        if (grantId == bytes32(0) || workId == bytes32(0)) revert EmptyId();
        if (licensee == address(0)) revert ZeroAddress();
        if (end <= start) revert InvalidPeriod(start, end);
        if (_indexOf[grantId] != 0) revert DuplicateGrant(grantId);
        (bool found, bytes32 conflicting) = findConflict(workId, media, start, end, exclusive);
        if (found) revert LicenseOverlap(conflicting);

        index = _grants.length;
        _grants.push(
            Grant({
                grantId: grantId,
                workId: workId,
                termsHash: termsHash,
                licensee: licensee,
                media: media,
                exclusive: exclusive,
                start: start,
                end: end,
                grantedAt: uint64(block.timestamp),
                blockNumber: uint64(block.number)
            })
        );
        _indexOf[grantId] = index + 1;
        _workGrants[workId].push(index);
        emit LicenseGranted(grantId, workId, licensee, termsHash, media, start, end, exclusive);
    }

    /// @notice The first existing grant that a new grant with these terms would conflict with.
    /// @dev The same rule `grant` enforces, exposed so callers can explain a refusal before sending.
    function findConflict(bytes32 workId, uint8 media, uint64 start, uint64 end, bool exclusive)
        public
        view
        returns (bool found, bytes32 conflictingGrantId)
    {
        uint256[] storage indexes = _workGrants[workId];
        for (uint256 i = 0; i < indexes.length; ++i) {
            Grant storage g = _grants[indexes[i]];
            if (g.media != media || !(exclusive || g.exclusive)) continue;
            if (start < g.end && g.start < end) return (true, g.grantId);
        }
        return (false, bytes32(0));
    }

    /// @notice How many grants `workId` has.
    function grantCount(bytes32 workId) external view returns (uint256) {
        return _workGrants[workId].length;
    }

    /// @notice The `i`-th grant on `workId`, in the order they were recorded.
    function grantAt(bytes32 workId, uint256 i) external view returns (Grant memory) {
        return _grants[_workGrants[workId][i]];
    }

    /// @notice All grants on `workId`, in the order they were recorded.
    function grantsOf(bytes32 workId) external view returns (Grant[] memory list) {
        uint256[] storage indexes = _workGrants[workId];
        list = new Grant[](indexes.length);
        for (uint256 i = 0; i < indexes.length; ++i) {
            list[i] = _grants[indexes[i]];
        }
    }

    /// @notice The grant recorded under `grantId`; reverts with `UnknownGrant` if there is none.
    function getGrant(bytes32 grantId) external view returns (Grant memory) {
        uint256 indexPlusOne = _indexOf[grantId];
        if (indexPlusOne == 0) revert UnknownGrant(grantId);
        return _grants[indexPlusOne - 1];
    }

    /// @notice Whether a grant with `grantId` exists.
    function hasGrant(bytes32 grantId) external view returns (bool) {
        return _indexOf[grantId] != 0;
    }

    /// @notice How many grants the registry holds across all works.
    function totalGrants() external view returns (uint256) {
        return _grants.length;
    }
}
