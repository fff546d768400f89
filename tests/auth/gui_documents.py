"""The GraphQL documents the OpenCRVS Integrations page sends (v1.3+ client, Apollo adds
`__typename` to every selection set), and the queries CRVS Hub adds next to them."""

from __future__ import annotations

REGISTER = """mutation registerSystem($system: SystemInput) {
  registerSystem(system: $system) {
    clientSecret
    system {
      _id
      clientId
      name
      shaSecret
      status
      type
      integratingSystemType
      settings {
        webhook {
          event
          permissions
          __typename
        }
        __typename
      }
      __typename
    }
    __typename
  }
}"""

DEACTIVATE = """mutation deactivateSystem($clientId: ID!) {
  deactivateSystem(clientId: $clientId) {
    _id
    clientId
    name
    shaSecret
    status
    type
    settings {
      webhook {
        event
        permissions
        __typename
      }
      __typename
    }
    __typename
  }
}"""

REACTIVATE = """mutation reactivateSystem($clientId: ID!) {
  reactivateSystem(clientId: $clientId) {
    _id
    clientId
    name
    shaSecret
    status
    type
    settings {
      webhook {
        event
        permissions
        __typename
      }
      __typename
    }
    __typename
  }
}"""

REFRESH = """mutation refreshSystemSecret($clientId: String!) {
  refreshSystemSecret(clientId: $clientId) {
    clientSecret
    system {
      _id
      clientId
      name
      shaSecret
      status
      type
      __typename
    }
    __typename
  }
}"""

UPDATE_PERMISSIONS = """mutation updatePermissions($setting: UpdatePermissionsInput!) {
  updatePermissions(setting: $setting) {
    _id
    clientId
    name
    shaSecret
    status
    type
    settings {
      webhook {
        event
        permissions
        __typename
      }
      __typename
    }
    __typename
  }
}"""

DELETE = """mutation deleteSystem($clientId: ID!) {
  deleteSystem(clientId: $clientId) {
    _id
    clientId
    name
    shaSecret
    status
    type
    __typename
  }
}"""

FETCH = """query fetchSystem($clientId: ID!) {
  fetchSystem(clientId: $clientId) {
    _id
    clientId
    name
    status
    type
    integratingSystemType
    settings { dailyQuota webhook { event permissions } openIdProviderClientId }
  }
}"""

GET = """query getSystem($clientId: ID!) {
  getSystem(clientId: $clientId) { clientId name status type }
}"""

SEARCH = """query searchSystems($type: SystemType, $status: SystemStatus, $name: String,
                     $count: Int, $skip: Int) {
  searchSystems(type: $type, status: $status, name: $name, count: $count, skip: $skip) {
    totalItems
    results { clientId name status type }
  }
}"""

# The payload checklist of the GUI's webhook modal, one entry per event.
WEBHOOK_SETTINGS = {
    "dailyQuota": 0,
    "webhook": [
        {"event": "birth", "permissions": ["child-details", "mother-details"]},
        {"event": "death", "permissions": []},
    ],
}
