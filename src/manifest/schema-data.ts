// biome-ignore-all lint/suspicious/noTemplateCurlyInString: descriptions quote workflow expressions
/**
 * Generated from schema.ts by schema-data.test.ts: the JSON of `allSchemas()`, so that the
 * validator compiles the schemas without loading TypeBox at start-up. Do not edit; after a
 * change to schema.ts run `UPDATE_SCHEMA_DATA=1 npx vitest run src/manifest/schema-data.test.ts`.
 */
import type { SchemaObject } from 'ajv';
import type { DeclaredKind } from '../types.js';

/** Every schema the validator compiles, keyed by what it checks (see `allSchemas` in schema.ts). */
// biome-ignore format: generated
export const SCHEMA_DATA: Record<DeclaredKind | 'stigmer.yaml', SchemaObject> = {
  "Skill": {
    "additionalProperties": false,
    "title": "Skill",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "Skill",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "oneOf": [
          {
            "required": [
              "skillMd"
            ]
          },
          {
            "required": [
              "skillMdFile"
            ]
          }
        ],
        "type": "object",
        "properties": {
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "tag": {
            "minLength": 1,
            "description": "version tag of the skill, e.g. v1",
            "type": "string"
          },
          "skillMd": {
            "minLength": 1,
            "description": "the skill as markdown",
            "type": "string"
          },
          "skillMdFile": {
            "minLength": 1,
            "description": "markdown file with the skill, relative to this manifest",
            "type": "string"
          }
        }
      }
    }
  },
  "Environment": {
    "additionalProperties": false,
    "title": "Environment",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "Environment",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "type": "object",
        "properties": {
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "data": {
            "description": "variables: KEY → {value | valueFrom, isSecret, description}",
            "additionalProperties": false,
            "type": "object",
            "patternProperties": {
              "^[A-Za-z_][A-Za-z0-9_]*$": {
                "additionalProperties": false,
                "oneOf": [
                  {
                    "required": [
                      "value"
                    ]
                  },
                  {
                    "required": [
                      "valueFrom"
                    ]
                  }
                ],
                "type": "object",
                "properties": {
                  "value": {
                    "description": "the value, written in the manifest",
                    "type": "string"
                  },
                  "valueFrom": {
                    "additionalProperties": false,
                    "oneOf": [
                      {
                        "required": [
                          "env"
                        ]
                      },
                      {
                        "required": [
                          "file"
                        ]
                      }
                    ],
                    "type": "object",
                    "properties": {
                      "env": {
                        "minLength": 1,
                        "description": "environment variable to read at plan time",
                        "type": "string"
                      },
                      "file": {
                        "minLength": 1,
                        "description": "file to read, relative to this manifest",
                        "type": "string"
                      },
                      "optional": {
                        "description": "when the variable is unset or empty, or the file is missing, keep the entry without a value",
                        "type": "boolean"
                      }
                    }
                  },
                  "isSecret": {
                    "description": "encrypted at rest, shown as (sensitive)",
                    "type": "boolean"
                  },
                  "description": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      }
    }
  },
  "Agent": {
    "additionalProperties": false,
    "title": "Agent",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "Agent",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "instructions"
        ],
        "properties": {
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "instructions": {
            "minLength": 10,
            "description": "system prompt of the agent (at least 10 characters)",
            "type": "string"
          },
          "mcpServers": {
            "description": "MCP servers the agent may call",
            "type": "array",
            "items": {
              "description": "an MCP server: a name, or an object with one stdio, http or docker transport",
              "anyOf": [
                {
                  "minLength": 1,
                  "description": "name of a well-known MCP server",
                  "type": "string"
                },
                {
                  "additionalProperties": false,
                  "oneOf": [
                    {
                      "required": [
                        "stdio"
                      ]
                    },
                    {
                      "required": [
                        "http"
                      ]
                    },
                    {
                      "required": [
                        "docker"
                      ]
                    }
                  ],
                  "type": "object",
                  "required": [
                    "name"
                  ],
                  "properties": {
                    "name": {
                      "minLength": 1,
                      "description": "name the agent knows this server by",
                      "type": "string"
                    },
                    "stdio": {
                      "additionalProperties": false,
                      "type": "object",
                      "required": [
                        "command"
                      ],
                      "properties": {
                        "command": {
                          "minLength": 1,
                          "description": "executable that speaks MCP on stdin/stdout",
                          "type": "string"
                        },
                        "args": {
                          "description": "command-line arguments",
                          "type": "array",
                          "items": {
                            "type": "string"
                          }
                        },
                        "env": {
                          "description": "environment variables for the process",
                          "type": "object",
                          "patternProperties": {
                            "^(.*)$": {
                              "type": "string"
                            }
                          }
                        }
                      }
                    },
                    "http": {
                      "additionalProperties": false,
                      "type": "object",
                      "required": [
                        "url"
                      ],
                      "properties": {
                        "url": {
                          "minLength": 1,
                          "description": "URL of a streamable-HTTP MCP server",
                          "type": "string"
                        },
                        "headers": {
                          "description": "HTTP headers sent with every request",
                          "type": "object",
                          "patternProperties": {
                            "^(.*)$": {
                              "type": "string"
                            }
                          }
                        }
                      }
                    },
                    "docker": {
                      "additionalProperties": false,
                      "type": "object",
                      "required": [
                        "image"
                      ],
                      "properties": {
                        "image": {
                          "minLength": 1,
                          "description": "container image that speaks MCP on stdin/stdout",
                          "type": "string"
                        },
                        "args": {
                          "description": "arguments after the image name",
                          "type": "array",
                          "items": {
                            "type": "string"
                          }
                        },
                        "env": {
                          "description": "environment variables for the container",
                          "type": "object",
                          "patternProperties": {
                            "^(.*)$": {
                              "type": "string"
                            }
                          }
                        }
                      }
                    }
                  }
                }
              ]
            }
          },
          "skillRefs": {
            "description": "Skills the agent uses",
            "type": "array",
            "items": {
              "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
              "description": "name of the referenced resource",
              "type": "string"
            }
          },
          "subAgents": {
            "description": "Agents this agent may delegate to",
            "type": "array",
            "items": {
              "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
              "description": "name of the referenced resource",
              "type": "string"
            }
          },
          "config": {
            "description": "model settings as strings: model, temperature, max_tokens, ...",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      }
    }
  },
  "Workflow": {
    "additionalProperties": false,
    "title": "Workflow",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "Workflow",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "tasks"
        ],
        "properties": {
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "inputs": {
            "description": "inputs of an execution",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "additionalProperties": false,
                "type": "object",
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "string",
                      "number",
                      "boolean",
                      "object",
                      "array"
                    ],
                    "description": "type of the value"
                  },
                  "description": {
                    "type": "string"
                  },
                  "required": {
                    "description": "an execution must give this input",
                    "type": "boolean"
                  },
                  "default": {
                    "description": "value used when the input is not given"
                  }
                }
              }
            }
          },
          "tasks": {
            "minItems": 1,
            "description": "the task graph",
            "type": "array",
            "items": {
              "additionalProperties": false,
              "type": "object",
              "required": [
                "name",
                "agent"
              ],
              "properties": {
                "name": {
                  "pattern": "^[A-Za-z0-9_][-A-Za-z0-9_]*$",
                  "description": "task name, unique in the workflow",
                  "type": "string"
                },
                "agent": {
                  "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                  "description": "Agent that runs the task",
                  "type": "string"
                },
                "description": {
                  "type": "string"
                },
                "inputs": {
                  "description": "inputs of the task; may use ${workflow.inputs.X} and ${tasks.T.outputs.Y}",
                  "type": "object",
                  "patternProperties": {
                    "^(.*)$": {
                      "type": "string"
                    }
                  }
                },
                "outputs": {
                  "description": "outputs the task produces",
                  "type": "array",
                  "items": {
                    "pattern": "^[A-Za-z0-9_][-A-Za-z0-9_]*$",
                    "description": "output name",
                    "type": "string"
                  }
                },
                "dependsOn": {
                  "description": "tasks that run before this one",
                  "type": "array",
                  "items": {
                    "pattern": "^[A-Za-z0-9_][-A-Za-z0-9_]*$",
                    "description": "task name",
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      }
    }
  },
  "AgentInstance": {
    "additionalProperties": false,
    "title": "AgentInstance",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "AgentInstance",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "agent"
        ],
        "properties": {
          "agent": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "Agent this instance runs",
            "type": "string"
          },
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "environmentRefs": {
            "description": "Environments merged into the execution context, in order",
            "type": "array",
            "items": {
              "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
              "description": "name of the referenced resource",
              "type": "string"
            }
          }
        }
      }
    }
  },
  "WorkflowInstance": {
    "additionalProperties": false,
    "title": "WorkflowInstance",
    "type": "object",
    "required": [
      "apiVersion",
      "kind",
      "metadata",
      "spec"
    ],
    "properties": {
      "apiVersion": {
        "const": "agentic.stigmer.ai/v1",
        "type": "string"
      },
      "kind": {
        "const": "WorkflowInstance",
        "type": "string"
      },
      "metadata": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "lowercase DNS label, unique per kind",
            "type": "string"
          },
          "labels": {
            "description": "string → string, for grouping and selection",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          },
          "annotations": {
            "description": "string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)",
            "type": "object",
            "patternProperties": {
              "^(.*)$": {
                "type": "string"
              }
            }
          }
        }
      },
      "spec": {
        "additionalProperties": false,
        "type": "object",
        "required": [
          "workflow"
        ],
        "properties": {
          "workflow": {
            "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "Workflow this instance runs",
            "type": "string"
          },
          "description": {
            "description": "one line shown in listings",
            "type": "string"
          },
          "environmentRefs": {
            "description": "Environments merged into the execution context, in order",
            "type": "array",
            "items": {
              "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
              "description": "name of the referenced resource",
              "type": "string"
            }
          }
        }
      }
    }
  },
  "stigmer.yaml": {
    "additionalProperties": false,
    "title": "stigmer.yaml",
    "type": "object",
    "properties": {
      "project": {
        "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        "description": "project that owns the resources applied from this directory",
        "type": "string"
      }
    }
  }
};
